#if canImport(Glibc)
import Glibc
#endif
import CMariaDB
import Foundation

/// A server-side prepared statement. Parameters are bound with their real types (no SQL is
/// built from values); result columns are fetched into buffers sized from the result's
/// max lengths, so large TEXT/JSON values arrive whole. The server-side statement lives as
/// long as this object (or until `close()`): MariaDB refuses new prepares once
/// `max_prepared_stmt_count` statements are open.
final class Statement {
    let sql: String
    private var statement: UnsafeMutablePointer<MYSQL_STMT>?
    private let parameterCount: Int
    fileprivate var cachedColumns: ResultColumns?

    struct Result {
        var affectedRows: Int
        var rows: [Row]
    }

    init(mysql: UnsafeMutablePointer<MYSQL>, sql: String) throws {
        guard let statement = mysql_stmt_init(mysql) else { throw DatabaseError(mysql: mysql, sql: sql) }
        guard mysql_stmt_prepare(statement, sql, UInt(sql.utf8.count)) == 0 else {
            let error = DatabaseError(statement: statement, sql: sql)
            mysql_stmt_close(statement)
            throw error
        }
        var updateMaxLength: my_bool = 1
        mysql_stmt_attr_set(statement, STMT_ATTR_UPDATE_MAX_LENGTH, &updateMaxLength)
        self.sql = sql
        self.statement = statement
        self.parameterCount = Int(mysql_stmt_param_count(statement))
    }

    deinit { close() }

    /// Frees the statement on the server and in the client; safe to call twice. After the
    /// connection's `mysql_close` it frees only the client side (the library detaches it).
    func close() {
        if let statement { mysql_stmt_close(statement) }
        statement = nil
    }

    func execute(_ values: [DatabaseValue], collectRows: Bool) throws -> Result {
        guard let statement else {
            throw DatabaseError(code: UInt32(CR_NO_PREPARE_STMT), sqlState: "HY000",
                                message: "the statement was closed", sql: sql)
        }
        guard values.count == parameterCount else {
            throw DatabaseError(code: 2034, sqlState: "HY000",
                                message: "\(values.count) arguments for \(parameterCount) placeholders", sql: sql)
        }
        let parameters = try ParameterBuffers(values, sql: sql)
        defer { parameters.release() }
        if parameterCount > 0 {
            guard mysql_stmt_bind_param(statement, parameters.binds) == 0 else {
                throw DatabaseError(statement: statement, sql: sql)
            }
        }
        guard mysql_stmt_execute(statement) == 0 else { throw DatabaseError(statement: statement, sql: sql) }
        guard let metadata = mysql_stmt_result_metadata(statement) else {
            return Result(affectedRows: Int(clamping: mysql_stmt_affected_rows(statement)), rows: [])
        }
        defer {
            mysql_free_result(metadata)
            mysql_stmt_free_result(statement)
        }
        guard mysql_stmt_store_result(statement) == 0 else { throw DatabaseError(statement: statement, sql: sql) }
        guard collectRows else { return Result(affectedRows: 0, rows: []) }
        return Result(affectedRows: 0, rows: try fetchRows(statement, metadata))
    }

    private func fetchRows(_ statement: UnsafeMutablePointer<MYSQL_STMT>,
                           _ metadata: UnsafeMutablePointer<MYSQL_RES>) throws -> [Row] {
        let count = Int(mysql_num_fields(metadata))
        let fields = UnsafeBufferPointer(start: mysql_fetch_fields(metadata), count: count)
        let columns = resultColumns(fields)
        let results = ResultBuffers(fields)
        defer { results.release() }
        guard mysql_stmt_bind_result(statement, results.binds) == 0 else {
            throw DatabaseError(statement: statement, sql: sql)
        }
        var rows: [Row] = []
        rows.reserveCapacity(Int(clamping: mysql_stmt_num_rows(statement)))
        while true {
            let status = mysql_stmt_fetch(statement)
            if status == MYSQL_NO_DATA { break }
            guard status == 0 || status == MYSQL_DATA_TRUNCATED else {
                throw DatabaseError(statement: statement, sql: sql)
            }
            rows.append(Row(columns: columns, values: (0..<count).map { results.value(at: $0) }))
        }
        return rows
    }
}

extension Statement {
    /// The result's column names, made once per statement: a prepared statement's result
    /// has the same columns every time (unless the table changed, which the names show).
    fileprivate func resultColumns(_ fields: UnsafeBufferPointer<MYSQL_FIELD>) -> ResultColumns {
        if let cached = cachedColumns, cached.names.count == fields.count,
           zip(cached.names, fields).allSatisfy({ name, field in name.withCString { strcmp($0, field.name) == 0 } }) {
            return cached
        }
        let columns = ResultColumns(names: fields.map { String(cString: $0.name) },
                                    tables: fields.map { $0.table.map { String(cString: $0) } ?? "" }, sql: sql)
        cachedColumns = columns
        return columns
    }
}

extension DatabaseError {
    init(statement: UnsafeMutablePointer<MYSQL_STMT>, sql: String) {
        self.init(code: mysql_stmt_errno(statement), sqlState: String(cString: mysql_stmt_sqlstate(statement)),
                  message: String(cString: mysql_stmt_error(statement)), sql: sql)
    }
}

/// Owns the memory MYSQL_BIND points into while a statement executes.
private final class ParameterBuffers {
    let binds: UnsafeMutablePointer<MYSQL_BIND>
    private var allocations: [UnsafeMutableRawPointer] = []
    private let count: Int

    init(_ values: [DatabaseValue], sql: String) throws {
        count = values.count
        binds = .allocate(capacity: max(1, count))
        binds.initialize(repeating: MYSQL_BIND(), count: max(1, count))
        for (index, value) in values.enumerated() {
            switch value {
            case .null:
                binds[index].buffer_type = MYSQL_TYPE_NULL
            case .int(let number):
                binds[index].buffer_type = MYSQL_TYPE_LONGLONG
                binds[index].buffer = store(number)
            case .double(let number):
                binds[index].buffer_type = MYSQL_TYPE_DOUBLE
                binds[index].buffer = store(number)
            case .string(let text):
                bindBytes(Array(text.utf8), type: MYSQL_TYPE_STRING, at: index)
            case .bytes(let bytes):
                bindBytes(bytes, type: MYSQL_TYPE_BLOB, at: index)
            case .date(let date):
                guard let time = MYSQL_TIME(utc: date) else {
                    release()
                    throw DatabaseError(code: UInt32(CR_UNSUPPORTED_PARAM_TYPE), sqlState: "22008",
                                        message: "date \(date.timeIntervalSince1970) s is outside DATETIME's years 1000-9999",
                                        sql: sql)
                }
                binds[index].buffer_type = MYSQL_TYPE_DATETIME
                binds[index].buffer = store(time)
            }
        }
    }

    private func store<T>(_ value: T) -> UnsafeMutableRawPointer {
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment)
        pointer.storeBytes(of: value, as: T.self)
        allocations.append(pointer)
        return pointer
    }

    private func bindBytes(_ bytes: [UInt8], type: enum_field_types, at index: Int) {
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
        bytes.withUnsafeBytes { if let base = $0.baseAddress { pointer.copyMemory(from: base, byteCount: bytes.count) } }
        allocations.append(pointer)
        binds[index].buffer_type = type
        binds[index].buffer = pointer
        binds[index].buffer_length = UInt(bytes.count)
        binds[index].length_value = UInt(bytes.count)
        binds[index].length = withUnsafeMutablePointer(to: &binds[index].length_value) { $0 }
    }

    func release() {
        allocations.forEach { $0.deallocate() }
        binds.deallocate()
    }
}

/// Result buffers: integers as LONGLONG, floats as DOUBLE, dates as MYSQL_TIME, the rest as bytes.
private final class ResultBuffers {
    enum Kind { case integer(unsigned: Bool), real, time, bytes(binary: Bool) }

    let binds: UnsafeMutablePointer<MYSQL_BIND>
    private let kinds: [Kind]
    private let lengths: UnsafeMutablePointer<UInt>
    private let nulls: UnsafeMutablePointer<my_bool>
    private var buffers: [UnsafeMutableRawPointer] = []

    init(_ fields: UnsafeBufferPointer<MYSQL_FIELD>) {
        let count = fields.count
        binds = .allocate(capacity: max(1, count))
        binds.initialize(repeating: MYSQL_BIND(), count: max(1, count))
        lengths = .allocate(capacity: max(1, count))
        lengths.initialize(repeating: 0, count: max(1, count))
        nulls = .allocate(capacity: max(1, count))
        nulls.initialize(repeating: 0, count: max(1, count))
        var kinds: [Kind] = []
        for (index, field) in fields.enumerated() {
            let kind: Kind
            let size: Int
            switch field.type {
            case MYSQL_TYPE_TINY, MYSQL_TYPE_SHORT, MYSQL_TYPE_LONG, MYSQL_TYPE_INT24, MYSQL_TYPE_LONGLONG, MYSQL_TYPE_YEAR:
                kind = .integer(unsigned: field.flags & UInt32(UNSIGNED_FLAG) != 0)
                binds[index].buffer_type = MYSQL_TYPE_LONGLONG
                size = 8
            case MYSQL_TYPE_FLOAT, MYSQL_TYPE_DOUBLE:
                kind = .real
                binds[index].buffer_type = MYSQL_TYPE_DOUBLE
                size = 8
            case MYSQL_TYPE_DATETIME, MYSQL_TYPE_TIMESTAMP, MYSQL_TYPE_DATE:
                kind = .time
                binds[index].buffer_type = MYSQL_TYPE_DATETIME
                size = MemoryLayout<MYSQL_TIME>.size
            default:
                // charsetnr 63 is `binary`: BLOB/VARBINARY come back as bytes, text as String.
                kind = .bytes(binary: field.charsetnr == 63 && field.type != MYSQL_TYPE_NEWDECIMAL)
                binds[index].buffer_type = MYSQL_TYPE_STRING
                size = Int(field.max_length) + 1
            }
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(size, 8), alignment: 8)
            buffers.append(buffer)
            binds[index].buffer = buffer
            binds[index].buffer_length = UInt(max(size, 8))
            binds[index].length = lengths + index
            binds[index].is_null = nulls + index
            if case .integer(let unsigned) = kind, unsigned { binds[index].is_unsigned = 1 }
            kinds.append(kind)
        }
        self.kinds = kinds
    }

    func value(at index: Int) -> DatabaseValue {
        if nulls[index] != 0 { return .null }
        let buffer = buffers[index]
        switch kinds[index] {
        case .integer(let unsigned):
            return unsigned ? .int(Int64(clamping: buffer.load(as: UInt64.self))) : .int(buffer.load(as: Int64.self))
        case .real:
            return .double(buffer.load(as: Double.self))
        case .time:
            return .date(buffer.load(as: MYSQL_TIME.self).utcDate)
        case .bytes(let binary):
            let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(lengths[index]))
            return binary ? .bytes(Array(bytes)) : .string(String(decoding: bytes, as: UTF8.self))
        }
    }

    func release() {
        buffers.forEach { $0.deallocate() }
        binds.deallocate()
        lengths.deallocate()
        nulls.deallocate()
    }
}

extension MYSQL_TIME {
    /// UTC calendar fields of `date`, truncated to milliseconds (DATETIME(3)); nil outside
    /// the column's range, checked before any conversion so that no value (a cursor from a
    /// client, say) can overflow one.
    init?(utc date: Date) {
        let scaled = (date.timeIntervalSince1970 * 1000).rounded(.down)
        guard let milliseconds = Int64(exactly: scaled),
              DateTimeRange.milliseconds.contains(milliseconds) else { return nil }
        var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
        let remainder = milliseconds - Int64(seconds) * 1000
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return nil }
        self.init()
        year = UInt32(parts.tm_year + 1900)
        month = UInt32(parts.tm_mon + 1)
        day = UInt32(parts.tm_mday)
        hour = UInt32(parts.tm_hour)
        minute = UInt32(parts.tm_min)
        second = UInt32(parts.tm_sec)
        second_part = UInt(remainder * 1000)
        time_type = MYSQL_TIMESTAMP_DATETIME
    }

    var utcDate: Date {
        var parts = tm()
        // The server sends calendar fields in range; clamping keeps a bad one from trapping.
        parts.tm_year = Int32(clamping: year) - 1900
        parts.tm_mon = Int32(clamping: month) - 1
        parts.tm_mday = Int32(clamping: day)
        parts.tm_hour = Int32(clamping: hour)
        parts.tm_min = Int32(clamping: minute)
        parts.tm_sec = Int32(clamping: second)
        let seconds = Int64(timegm(&parts))
        let milliseconds = seconds &* 1000 &+ Int64(clamping: second_part / 1000)
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
