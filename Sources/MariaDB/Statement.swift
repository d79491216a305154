#if canImport(Glibc)
import Glibc
#endif
import CMariaDB
import Foundation

/// A server-side prepared statement. Parameters are bound with their real types (no SQL is
/// built from values); results are stored whole and their rows read in place (see
/// `ResultLayout`), so values of any length arrive whole. The server-side statement lives as
/// long as this object (or until `close()`): MariaDB refuses new prepares once
/// `max_prepared_stmt_count` statements are open.
final class Statement {
    let sql: String
    private var statement: UnsafeMutablePointer<MYSQL_STMT>?
    private let parameterCount: Int
    fileprivate var cachedColumns: ResultColumns?
    /// The decoding plans of `cachedColumns`' result.
    fileprivate var cachedPlans = DecodingPlans()
    private var cachedLayout: ResultLayout?
    /// Nanoseconds the last execution waited on the server: sending it, and reading its
    /// whole result (`mysql_stmt_store_result`); decoding rows is the caller's time.
    private(set) var lastWaitNanoseconds: UInt64 = 0
    /// Executions so far: a held result (`HeldRows`) is this statement's only while no
    /// later execution replaced it.
    private(set) var executions: UInt64 = 0

    init(mysql: UnsafeMutablePointer<MYSQL>, sql: String) throws {
        guard let statement = mysql_stmt_init(mysql) else { throw DatabaseError(mysql: mysql, sql: sql) }
        guard mysql_stmt_prepare(statement, sql, UInt(sql.utf8.count)) == 0 else {
            let error = DatabaseError(statement: statement, sql: sql)
            mysql_stmt_close(statement)
            throw error
        }
        // Each fetched row's columns are located for `RowCursor`, not copied into bound buffers.
        mysql_stmt_attr_set(statement, STMT_ATTR_CB_RESULT, unsafeBitCast(locateColumn, to: UnsafeRawPointer.self))
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
        cachedLayout = nil
    }

    /// Runs a statement without rows to read; returns the affected rows.
    func execute(_ values: [DatabaseValue]) throws -> Int {
        var affected = 0
        _ = try run(values, digest: nil, unlessKnown: nil, affected: &affected, readingRows: false) { _ in }
        return affected
    }

    /// Runs the statement and hands each row of its result to `body`, read in place from
    /// the stored result. With a `digest`, the statement, its values and every row are added
    /// to it; with `isKnown` too, all of them are added first and `isKnown` asked about the
    /// digest's key: when it answers true no row is handed over, and this returns false.
    @discardableResult
    func execute(_ values: [DatabaseValue], recording digest: ReadDigest? = nil,
                 unlessKnown isKnown: ((ContentKey) -> Bool)? = nil,
                 eachRow body: (RowCursor) throws -> Void) throws -> Bool {
        var affected = 0
        return try run(values, digest: digest, unlessKnown: isKnown, affected: &affected, readingRows: true, eachRow: body)
    }

    private func run(_ values: [DatabaseValue], digest: ReadDigest?, unlessKnown isKnown: ((ContentKey) -> Bool)?,
                     affected: inout Int, readingRows: Bool, eachRow body: (RowCursor) throws -> Void) throws -> Bool {
        guard let stored = try store(values, affected: &affected) else { return true }
        defer { stored.release() }
        guard readingRows else { return true }
        // Added only once the result is whole, so a retried read is not added twice.
        digest?.add(statement: sql, binds: stored.binds)
        if let digest, let isKnown {
            while try stored.fetch(digesting: digest) {}
            if isKnown(digest.key) { return false }
            stored.rewind()
            while try stored.fetch(digesting: nil) { try body(stored.cursor) }
        } else {
            while try stored.fetch(digesting: digest) { try body(stored.cursor) }
        }
        return true
    }

    /// Runs the statement and holds its whole result while `body` runs, which may run other
    /// statements first and read the rows (`HeldRows.forEachRow`) later, or never. With a
    /// `digest`, the statement, its values and every row are added to it first. Each row is
    /// handed to `scan` on the way, with its index (what `body` needs to know before, or
    /// instead of, reading the rows).
    func holding<T>(_ values: [DatabaseValue], recording digest: ReadDigest?, scan: (RowCursor, Int) throws -> Void,
                    _ body: (HeldRows) throws -> T) throws -> T {
        var affected = 0
        guard let stored = try store(values, affected: &affected) else {
            throw DatabaseError(code: 2051, sqlState: "HY000", message: "the statement has no result to hold", sql: sql)
        }
        let execution = executions
        // A later execution or a close (eviction, reconnect) inside `body` frees the result itself.
        defer { stored.release(whileCurrent: holds(execution)) }
        digest?.add(statement: sql, binds: stored.binds)
        var index = 0
        while try stored.fetch(digesting: digest) {
            try scan(stored.cursor, index)
            index += 1
        }
        return try body(HeldRows(stored, statement: self, execution: execution))
    }

    /// Executes and stores the result; nil for a statement without one (then `affected` is set).
    private func store(_ values: [DatabaseValue], affected: inout Int) throws -> StoredResult? {
        guard let statement else {
            throw DatabaseError(code: UInt32(CR_NO_PREPARE_STMT), sqlState: "HY000",
                                message: "the statement was closed", sql: sql)
        }
        guard values.count == parameterCount else {
            throw DatabaseError(code: 2034, sqlState: "HY000",
                                message: "\(values.count) arguments for \(parameterCount) placeholders", sql: sql)
        }
        executions &+= 1
        // Until the result is stored, all of the time is the server's (or the wire's).
        let started = DispatchTime.now().uptimeNanoseconds
        var waited: UInt64?
        defer { lastWaitNanoseconds = waited ?? DispatchTime.now().uptimeNanoseconds - started }
        let parameters = parameterCount > 0 ? try ParameterBuffers(values, sql: sql) : nil
        var keep = false
        defer { if !keep { parameters?.release() } }
        if let parameters {
            guard mysql_stmt_bind_param(statement, parameters.binds) == 0,
                  mysql_stmt_execute(statement) == 0 else { throw DatabaseError(statement: statement, sql: sql) }
        } else {
            guard mysql_stmt_execute(statement) == 0 else { throw DatabaseError(statement: statement, sql: sql) }
        }
        guard let metadata = mysql_stmt_result_metadata(statement) else {
            affected = Int(clamping: mysql_stmt_affected_rows(statement))
            return nil
        }
        guard mysql_stmt_store_result(statement) == 0 else {
            let error = DatabaseError(statement: statement, sql: sql)
            mysql_free_result(metadata)
            mysql_stmt_free_result(statement)
            throw error
        }
        waited = DispatchTime.now().uptimeNanoseconds - started
        let fields = UnsafeBufferPointer(start: mysql_fetch_fields(metadata), count: Int(mysql_num_fields(metadata)))
        let layout = resultLayout(fields)
        mysql_stmt_attr_set(statement, STMT_ATTR_CB_USER_DATA, layout.places)
        keep = true
        return StoredResult(statement: statement, sql: sql, metadata: metadata, parameters: parameters,
                            parameterCount: parameterCount, layout: layout,
                            cursor: RowCursor(layout: layout, columns: resultColumns(fields), plans: cachedPlans))
    }

    /// Whether `execution` is still this statement's current one and its result still held.
    func holds(_ execution: UInt64) -> Bool { statement != nil && executions == execution }

    /// The row count of the stored result being read (for reserving capacity).
    var storedRowCount: Int {
        statement.map { Int(clamping: mysql_stmt_num_rows($0)) } ?? 0
    }

    /// The layout of a result with `fields`: the last execution's when it reads the same.
    private func resultLayout(_ fields: UnsafeBufferPointer<MYSQL_FIELD>) -> ResultLayout {
        if let cached = cachedLayout, cached.matches(fields) { return cached }
        let layout = ResultLayout(fields)
        cachedLayout = layout
        return layout
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

/// A statement's stored result being read: its rows, the cursor over them, and what to free.
final class StoredResult {
    private let statement: UnsafeMutablePointer<MYSQL_STMT>
    private let sql: String
    private let metadata: UnsafeMutablePointer<MYSQL_RES>
    private let parameters: ParameterBuffers?
    let binds: UnsafeBufferPointer<MYSQL_BIND>
    let layout: ResultLayout
    let cursor: RowCursor
    private var released = false

    fileprivate init(statement: UnsafeMutablePointer<MYSQL_STMT>, sql: String, metadata: UnsafeMutablePointer<MYSQL_RES>,
                     parameters: ParameterBuffers?, parameterCount: Int, layout: ResultLayout, cursor: RowCursor) {
        self.statement = statement
        self.sql = sql
        self.metadata = metadata
        self.parameters = parameters
        self.binds = UnsafeBufferPointer(start: parameters?.binds, count: parameterCount)
        self.layout = layout
        self.cursor = cursor
    }

    var rowCount: Int { Int(clamping: mysql_stmt_num_rows(statement)) }

    /// Fetches the next row (false past the last), adding it to `digesting`.
    func fetch(digesting: ReadDigest?) throws -> Bool {
        let places = layout.places
        if digesting != nil { places.pointee.firstValue = nil }
        let status = mysql_stmt_fetch(statement)
        if status == MYSQL_NO_DATA { return false }
        guard status == 0 else { throw DatabaseError(statement: statement, sql: sql) }
        digesting?.add(row: places.pointee)
        return true
    }

    /// Back to the first row, for the callback to record into this result's layout again.
    func rewind() {
        mysql_stmt_attr_set(statement, STMT_ATTR_CB_USER_DATA, layout.places)
        mysql_stmt_data_seek(statement, 0)
    }

    /// Frees the result and the bound values. `whileCurrent`: false when a later execution
    /// or a close has replaced the result already (then only what is ours is freed).
    func release(whileCurrent: Bool = true) {
        guard !released else { return }
        released = true
        mysql_free_result(metadata)
        if whileCurrent { mysql_stmt_free_result(statement) }
        parameters?.release()
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
