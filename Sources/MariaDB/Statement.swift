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
    /// The decoding plans of `cachedColumns`' result.
    fileprivate var cachedPlans = DecodingPlans()
    private var cachedBuffers: ResultBuffers?
    /// Nanoseconds the last execution waited on the server: sending it, and reading its
    /// whole result (`mysql_stmt_store_result`); decoding rows is the caller's time.
    private(set) var lastWaitNanoseconds: UInt64 = 0

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
        cachedBuffers = nil
    }

    /// Runs a statement without rows to read; returns the affected rows.
    func execute(_ values: [DatabaseValue]) throws -> Int {
        try execute(values, readingRows: false) { _ in }
    }

    /// Runs the statement and hands each row of its result to `body`, read in place from
    /// buffers the statement keeps between executions (grown when a result needs more).
    /// Returns the affected rows of a statement without a result.
    @discardableResult
    func execute(_ values: [DatabaseValue], readingRows: Bool = true,
                 eachRow body: (RowCursor) throws -> Void) throws -> Int {
        guard let statement else {
            throw DatabaseError(code: UInt32(CR_NO_PREPARE_STMT), sqlState: "HY000",
                                message: "the statement was closed", sql: sql)
        }
        guard values.count == parameterCount else {
            throw DatabaseError(code: 2034, sqlState: "HY000",
                                message: "\(values.count) arguments for \(parameterCount) placeholders", sql: sql)
        }
        // Until the result is stored, all of the time is the server's (or the wire's).
        let started = DispatchTime.now().uptimeNanoseconds
        var waited: UInt64?
        defer { lastWaitNanoseconds = waited ?? DispatchTime.now().uptimeNanoseconds - started }
        if parameterCount > 0 {
            let parameters = try ParameterBuffers(values, sql: sql)
            defer { parameters.release() }
            guard mysql_stmt_bind_param(statement, parameters.binds) == 0,
                  mysql_stmt_execute(statement) == 0 else { throw DatabaseError(statement: statement, sql: sql) }
        } else {
            guard mysql_stmt_execute(statement) == 0 else { throw DatabaseError(statement: statement, sql: sql) }
        }
        guard let metadata = mysql_stmt_result_metadata(statement) else {
            return Int(clamping: mysql_stmt_affected_rows(statement))
        }
        defer {
            mysql_free_result(metadata)
            mysql_stmt_free_result(statement)
        }
        guard mysql_stmt_store_result(statement) == 0 else { throw DatabaseError(statement: statement, sql: sql) }
        waited = DispatchTime.now().uptimeNanoseconds - started
        guard readingRows else { return 0 }
        let fields = UnsafeBufferPointer(start: mysql_fetch_fields(metadata), count: Int(mysql_num_fields(metadata)))
        let columns = resultColumns(fields)
        let buffers = resultBuffers(fields)
        guard mysql_stmt_bind_result(statement, buffers.binds) == 0 else {
            throw DatabaseError(statement: statement, sql: sql)
        }
        let cursor = RowCursor(buffers: buffers, columns: columns, plans: cachedPlans)
        while true {
            let status = mysql_stmt_fetch(statement)
            if status == MYSQL_NO_DATA { break }
            guard status == 0 || status == MYSQL_DATA_TRUNCATED else {
                throw DatabaseError(statement: statement, sql: sql)
            }
            try body(cursor)
        }
        return 0
    }

    /// The row count of the stored result being read (for reserving capacity).
    var storedRowCount: Int {
        statement.map { Int(clamping: mysql_stmt_num_rows($0)) } ?? 0
    }

    /// Result buffers for `fields`: the last execution's when their kinds match and each is
    /// large enough for this result's longest value, else new ones.
    private func resultBuffers(_ fields: UnsafeBufferPointer<MYSQL_FIELD>) -> ResultBuffers {
        if let cached = cachedBuffers, cached.fits(fields) { return cached }
        let buffers = ResultBuffers(fields)
        cachedBuffers = buffers
        return buffers
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
        cachedPlans = DecodingPlans()
        return columns
    }
}

extension DatabaseError {
    init(statement: UnsafeMutablePointer<MYSQL_STMT>, sql: String) {
        self.init(code: mysql_stmt_errno(statement), sqlState: String(cString: mysql_stmt_sqlstate(statement)),
                  message: String(cString: mysql_stmt_error(statement)), sql: sql)
    }
}

/// Owns the memory MYSQL_BIND points into while a statement executes: one allocation for
/// every parameter's bytes, however many there are (a 100-id `IN` list binds 100 strings).
private struct ParameterBuffers {
    let binds: UnsafeMutablePointer<MYSQL_BIND>
    private let storage: UnsafeMutableRawPointer
    private let count: Int

    init(_ values: [DatabaseValue], sql: String) throws {
        count = values.count
        var size = 0
        for value in values {
            size = Self.aligned(size)
            switch value {
            case .null: break
            case .int, .double: size += 8
            case .string(let text): size += text.utf8.count
            case .bytes(let bytes): size += bytes.count
            case .date: size += MemoryLayout<MYSQL_TIME>.stride
            }
        }
        binds = .allocate(capacity: max(1, count))
        binds.initialize(repeating: MYSQL_BIND(), count: max(1, count))
        storage = .allocate(byteCount: max(8, size), alignment: 8)
        var offset = 0
        for (index, value) in values.enumerated() {
            offset = Self.aligned(offset)
            let slot = storage + offset
            switch value {
            case .null:
                binds[index].buffer_type = MYSQL_TYPE_NULL
            case .int(let number):
                slot.storeBytes(of: number, as: Int64.self)
                bind(index, MYSQL_TYPE_LONGLONG, slot, length: 8)
                offset += 8
            case .double(let number):
                slot.storeBytes(of: number, as: Double.self)
                bind(index, MYSQL_TYPE_DOUBLE, slot, length: 8)
                offset += 8
            case .string(var text):
                let length = text.withUTF8 { utf8 in
                    if let base = utf8.baseAddress { slot.copyMemory(from: base, byteCount: utf8.count) }
                    return utf8.count
                }
                bind(index, MYSQL_TYPE_STRING, slot, length: length)
                offset += length
            case .bytes(let bytes):
                bytes.withUnsafeBytes { if let base = $0.baseAddress { slot.copyMemory(from: base, byteCount: $0.count) } }
                bind(index, MYSQL_TYPE_BLOB, slot, length: bytes.count)
                offset += bytes.count
            case .date(let date):
                guard let time = MYSQL_TIME(utc: date) else {
                    release()
                    throw DatabaseError(code: UInt32(CR_UNSUPPORTED_PARAM_TYPE), sqlState: "22008",
                                        message: "date \(date.timeIntervalSince1970) s is outside DATETIME's years 1000-9999",
                                        sql: sql)
                }
                slot.storeBytes(of: time, as: MYSQL_TIME.self)
                bind(index, MYSQL_TYPE_DATETIME, slot, length: MemoryLayout<MYSQL_TIME>.size)
                offset += MemoryLayout<MYSQL_TIME>.stride
            }
        }
    }

    private static func aligned(_ offset: Int) -> Int { (offset + 7) & ~7 }

    private func bind(_ index: Int, _ type: enum_field_types, _ buffer: UnsafeMutableRawPointer, length: Int) {
        binds[index].buffer_type = type
        binds[index].buffer = buffer
        binds[index].buffer_length = UInt(length)
        binds[index].length_value = UInt(length)
        binds[index].length = withUnsafeMutablePointer(to: &binds[index].length_value) { $0 }
    }

    func release() {
        storage.deallocate()
        binds.deallocate()
    }
}

/// Result buffers: integers as LONGLONG, floats as DOUBLE, dates as MYSQL_TIME, the rest as
/// bytes. Kept by the statement between executions; `RowCursor` reads them in place.
final class ResultBuffers {
    enum Kind: Equatable { case integer(unsigned: Bool), real, time, bytes(binary: Bool) }

    let binds: UnsafeMutablePointer<MYSQL_BIND>
    let kinds: [Kind]
    let lengths: UnsafeMutablePointer<UInt>
    let nulls: UnsafeMutablePointer<my_bool>
    let buffers: [UnsafeMutableRawPointer]
    private let capacities: [Int]

    init(_ fields: UnsafeBufferPointer<MYSQL_FIELD>) {
        let count = fields.count
        binds = .allocate(capacity: max(1, count))
        binds.initialize(repeating: MYSQL_BIND(), count: max(1, count))
        lengths = .allocate(capacity: max(1, count))
        lengths.initialize(repeating: 0, count: max(1, count))
        nulls = .allocate(capacity: max(1, count))
        nulls.initialize(repeating: 0, count: max(1, count))
        var kinds: [Kind] = [], buffers: [UnsafeMutableRawPointer] = [], capacities: [Int] = []
        for (index, field) in fields.enumerated() {
            let kind = Self.kind(of: field)
            let size: Int
            switch kind {
            case .integer(let unsigned):
                binds[index].buffer_type = MYSQL_TYPE_LONGLONG
                binds[index].is_unsigned = unsigned ? 1 : 0
                size = 8
            case .real:
                binds[index].buffer_type = MYSQL_TYPE_DOUBLE
                size = 8
            case .time:
                binds[index].buffer_type = MYSQL_TYPE_DATETIME
                size = MemoryLayout<MYSQL_TIME>.size
            case .bytes:
                binds[index].buffer_type = MYSQL_TYPE_STRING
                // Room to spare, so that the next result's slightly longer values still fit.
                size = max(64, Int(field.max_length) * 2 + 1)
            }
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(size, 8), alignment: 8)
            buffers.append(buffer)
            capacities.append(max(size, 8))
            binds[index].buffer = buffer
            binds[index].buffer_length = UInt(max(size, 8))
            binds[index].length = lengths + index
            binds[index].is_null = nulls + index
            kinds.append(kind)
        }
        (self.kinds, self.buffers, self.capacities) = (kinds, buffers, capacities)
    }

    deinit {
        buffers.forEach { $0.deallocate() }
        binds.deallocate()
        lengths.deallocate()
        nulls.deallocate()
    }

    private static func kind(of field: MYSQL_FIELD) -> Kind {
        switch field.type {
        case MYSQL_TYPE_TINY, MYSQL_TYPE_SHORT, MYSQL_TYPE_LONG, MYSQL_TYPE_INT24, MYSQL_TYPE_LONGLONG, MYSQL_TYPE_YEAR:
            return .integer(unsigned: field.flags & UInt32(UNSIGNED_FLAG) != 0)
        case MYSQL_TYPE_FLOAT, MYSQL_TYPE_DOUBLE:
            return .real
        case MYSQL_TYPE_DATETIME, MYSQL_TYPE_TIMESTAMP, MYSQL_TYPE_DATE:
            return .time
        default:
            // charsetnr 63 is `binary`: BLOB/VARBINARY come back as bytes, text as String.
            return .bytes(binary: field.charsetnr == 63 && field.type != MYSQL_TYPE_NEWDECIMAL)
        }
    }

    /// Whether these buffers can take a result with `fields`: the same kinds, and room for
    /// each column's longest value.
    func fits(_ fields: UnsafeBufferPointer<MYSQL_FIELD>) -> Bool {
        guard fields.count == kinds.count else { return false }
        for (index, field) in fields.enumerated() {
            guard Self.kind(of: field) == kinds[index] else { return false }
            if case .bytes = kinds[index], Int(field.max_length) >= capacities[index] { return false }
        }
        return true
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

    /// The fields as UTC milliseconds since the epoch, by calendar arithmetic (days from
    /// the civil date): `timegm` per column was a measurable share of reading a page.
    var utcMilliseconds: Int64 {
        // The server sends fields in range; clamping keeps a bad one from trapping.
        let month = Int64(clamping: self.month), day = Int64(clamping: self.day)
        let year = Int64(clamping: self.year) - (month <= 2 ? 1 : 0)
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + Int64(clamping: hour) * 3600 + Int64(clamping: minute) * 60 + Int64(clamping: second)
        return seconds &* 1000 &+ Int64(clamping: second_part / 1000)
    }

    var utcDate: Date { Date(timeIntervalSince1970: Double(utcMilliseconds) / 1000) }
}
