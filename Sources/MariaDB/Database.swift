import CMariaDB
import Foundation

/// One MariaDB connection, used from one thread (a worker serves one request at a time).
/// Prepared statements are cached per SQL text (least recently used evicted and closed);
/// values are always bound, never spliced.
/// A dropped connection is reopened on next use; while the server is unreachable every call
/// fails fast with a connection error the API answers as 503.
public final class Database {
    public let configuration: ConnectionConfiguration
    private var handle: UnsafeMutablePointer<MYSQL>?
    private var statements: StatementCache
    private var transactionDepth = 0
    /// Statements executed on this connection: the benchmarks and tests read it to prove
    /// a request's query count does not grow with its data (no N+1).
    public private(set) var statementsExecuted = 0
    /// Time the statements run so far waited on the server (see `Statement`), in
    /// nanoseconds: what a request log subtracts to show the service's own time.
    public private(set) var serverWaitNanoseconds: UInt64 = 0
    /// Where the reads run now are recorded (see `recordingReads`).
    private var recording: ReadDigest?

    /// `statementCacheSize`: prepared statements kept open on this connection.
    public init(configuration: ConnectionConfiguration, statementCacheSize: Int = 256) {
        self.configuration = configuration
        self.statements = StatementCache(capacity: max(1, statementCacheSize))
    }

    /// Prepared statements open on this connection now.
    public var cachedStatements: Int { statements.count }

    deinit { close() }

    public var isConnected: Bool { handle != nil }

    func handleForPing() -> UnsafeMutablePointer<MYSQL>? { handle }

    /// Opens the connection if it is not open.
    public func connect() throws(DatabaseError) {
        if handle != nil { return }
        guard let mysql = mysql_init(nil) else {
            throw DatabaseError(code: 2008, sqlState: "HY000", message: "out of memory", sql: nil)
        }
        var connectTimeout = configuration.connectTimeoutSeconds
        var readTimeout = configuration.readTimeoutSeconds
        var writeTimeout = configuration.writeTimeoutSeconds
        mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connectTimeout)
        mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &readTimeout)
        mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &writeTimeout)
        mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4")
        // Runs again on every reconnect: DateTimes are UTC, as Prisma writes them. Past 10
        // values an `IN` list is planned from index statistics instead of one index dive
        // per value: for the 50 ids of a library page's variants, planning cost as much
        // as running the query (0.75 ms of 1.2), and every IN here is on a unique or
        // selective key, where the statistics are right.
        mysql_options(mysql, MYSQL_INIT_COMMAND,
                      "SET time_zone = '+00:00', NAMES utf8mb4 COLLATE utf8mb4_unicode_ci, eq_range_index_dive_limit = 10")
        let connected: UnsafeMutablePointer<MYSQL>?
        if let socket = configuration.socket {
            connected = mysql_real_connect(mysql, nil, configuration.user, configuration.password,
                                           configuration.database, 0, socket, 0)
        } else {
            connected = mysql_real_connect(mysql, configuration.host, configuration.user, configuration.password,
                                           configuration.database, configuration.port, nil, 0)
        }
        guard connected != nil else {
            let error = DatabaseError(mysql: mysql, sql: nil)
            mysql_close(mysql)
            throw error
        }
        handle = mysql
    }

    public func close() {
        statements.removeAll()
        if let handle { mysql_close(handle) }
        handle = nil
        transactionDepth = 0
    }

    /// Runs `body` with a connection, reconnecting once if the server dropped an idle one
    /// (wait_timeout, a restart). Only what is safe to run twice is retried: anything after
    /// 2006 (the request never reached the server), and reads after 2013 (lost mid-way).
    /// Inside a transaction nothing is retried here: the caller's transaction fails whole.
    private func withConnection<T>(readOnly: Bool = false, _ body: (UnsafeMutablePointer<MYSQL>) throws -> T) throws -> T {
        try connect()
        do {
            return try body(handle!)
        } catch let error as DatabaseError where transactionDepth == 0 && (
            error.code == UInt32(CR_SERVER_GONE_ERROR) || (readOnly && error.code == UInt32(CR_SERVER_LOST))) {
            close()
            try connect()
            return try body(handle!)
        } catch let error as DatabaseError where error.isConnectionFailure {
            close()
            throw error
        }
    }

    // MARK: - Statements

    /// Runs a statement; returns the number of affected rows.
    @discardableResult
    public func execute(_ sql: String, _ arguments: [any DatabaseValueConvertible] = []) throws -> Int {
        try withConnection { mysql in
            let statement = try prepared(sql, mysql)
            statementsExecuted += 1
            defer { serverWaitNanoseconds &+= statement.lastWaitNanoseconds }
            return try statement.execute(arguments.map(\.databaseValue))
        }
    }

    /// Runs a query and hands each row to `body`, read in place (see `RowCursor`);
    /// `expectedRows` is the result's row count, for reserving room at the first row.
    /// The whole result has arrived before the first call, so a reconnect and retry never
    /// repeats rows; a body that throws stops the reading and the error propagates.
    public func forEachRow(_ sql: String, _ arguments: [any DatabaseValueConvertible] = [],
                           _ body: (_ row: RowCursor, _ expectedRows: Int) throws -> Void) throws {
        try forEachRow(sql, arguments, unlessKnown: nil, body)
    }

    /// As `forEachRow`, inside `recordingReads`: the whole result is added to the digest
    /// first, and when `isKnown` answers true for the digest's key, `body` sees no row and
    /// this returns false (what was to be made of the rows is at hand already).
    /// Outside `recordingReads`, every row is read.
    @discardableResult
    public func forEachRow(_ sql: String, _ arguments: [any DatabaseValueConvertible] = [],
                           unlessKnown isKnown: ((ContentKey) -> Bool)?,
                           _ body: (_ row: RowCursor, _ expectedRows: Int) throws -> Void) throws -> Bool {
        try withConnection(readOnly: true) { mysql in
            let statement = try prepared(sql, mysql)
            statementsExecuted += 1
            defer { serverWaitNanoseconds &+= statement.lastWaitNanoseconds }
            return try statement.execute(arguments.map(\.databaseValue), recording: recording, unlessKnown: isKnown) { row in
                try body(row, statement.storedRowCount)
            }
        }
    }

    /// Runs a query and holds its result while `body` runs (see `HeldRows`): `body` may run
    /// other statements before it reads the rows, or never read them. Inside
    /// `recordingReads` the rows are added to the digest first, each handed to `scan` on the
    /// way with its index (from 0 again when a lost connection runs the whole read again).
    public func holdingRows<T>(_ sql: String, _ arguments: [any DatabaseValueConvertible] = [],
                               scan: (_ row: RowCursor, _ index: Int) throws -> Void,
                               _ body: (HeldRows) throws -> T) throws -> T {
        try withConnection(readOnly: true) { mysql in
            let statement = try prepared(sql, mysql)
            statementsExecuted += 1
            return try statement.holding(arguments.map(\.databaseValue), recording: recording, scan: scan, { held in
                serverWaitNanoseconds &+= statement.lastWaitNanoseconds
                return try body(held)
            })
        }
    }

    /// Runs `body`, adding every query it runs (`forEachRow`, `query` and the readers built
    /// on them), with its values and result rows, to `digest` (none: `body` runs as it is).
    public func recordingReads<T>(into digest: ReadDigest?, _ body: () throws -> T) rethrows -> T {
        guard let digest else { return try body() }
        let outer = recording
        recording = digest
        defer { recording = outer }
        return try body()
    }

    /// Runs a query and returns every row, copied out (columns by name).
    public func query(_ sql: String, _ arguments: [any DatabaseValueConvertible] = []) throws -> [Row] {
        var rows: [Row] = []
        try withConnection(readOnly: true) { mysql in
            rows = []  // a retried read starts over
            let statement = try prepared(sql, mysql)
            statementsExecuted += 1
            defer { serverWaitNanoseconds &+= statement.lastWaitNanoseconds }
            try statement.execute(arguments.map(\.databaseValue), recording: recording) { row in
                rows.append(Row(row))
            }
        }
        return rows
    }

    /// The first row of a query, if any.
    public func queryOne(_ sql: String, _ arguments: [any DatabaseValueConvertible] = []) throws -> Row? {
        try query(sql, arguments).first
    }

    /// A statement without parameters through the text protocol (transaction control, SET).
    public func executeText(_ sql: String) throws {
        try withConnection { mysql in
            statementsExecuted += 1
            let started = DispatchTime.now().uptimeNanoseconds
            defer { serverWaitNanoseconds &+= DispatchTime.now().uptimeNanoseconds - started }
            guard mysql_real_query(mysql, sql, UInt(sql.utf8.count)) == 0 else {
                throw DatabaseError(mysql: mysql, sql: sql)
            }
            if let result = mysql_store_result(mysql) { mysql_free_result(result) }
        }
    }

    private func prepared(_ sql: String, _ mysql: UnsafeMutablePointer<MYSQL>) throws -> Statement {
        if let statement = statements.statement(for: sql) { return statement }
        let statement = try Statement(mysql: mysql, sql: sql)
        statements.insert(statement)
        return statement
    }

    // MARK: - Transactions

    /// InnoDB's default is REPEATABLE READ, whose locking reads also lock the gaps
    /// between rows; READ COMMITTED locks only the rows read (queue claims use it, so
    /// that new rows can be inserted meanwhile).
    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
    }

    /// Runs `body` in a transaction and commits it. A deadlock (1213) or lock wait timeout
    /// (1205) rolls back and runs the whole body again, up to `attempts` times.
    @discardableResult
    public func inTransaction<T>(attempts: Int = 4, isolation: IsolationLevel? = nil,
                                 _ body: () throws -> T) throws -> T {
        precondition(transactionDepth == 0, "transactions do not nest")
        var attempt = 0
        while true {
            attempt += 1
            // Applies to the next transaction only, so a reconnect cannot lose it.
            if let isolation { try executeText("SET TRANSACTION ISOLATION LEVEL \(isolation.rawValue)") }
            try executeText("START TRANSACTION")
            transactionDepth = 1
            do {
                let value = try body()
                transactionDepth = 0
                try executeText("COMMIT")
                return value
            } catch let error as DatabaseError where error.isTransient && attempt < attempts {
                rollbackQuietly()
                usleep(UInt32.random(in: 5_000...(20_000 * UInt32(attempt))))
            } catch {
                rollbackQuietly()
                throw error
            }
        }
    }

    private func rollbackQuietly() {
        transactionDepth = 0
        if handle != nil { try? executeText("ROLLBACK") }
    }
}

extension DatabaseError {
    init(mysql: UnsafeMutablePointer<MYSQL>, sql: String?) {
        self.init(code: mysql_errno(mysql), sqlState: String(cString: mysql_sqlstate(mysql)),
                  message: String(cString: mysql_error(mysql)), sql: sql)
    }
}

extension Database {
    /// Whether the server answers now (connecting if needed); the error when it does not.
    public func ping() -> DatabaseError? {
        do {
            try connect()
            if mysql_ping(handleForPing()) != 0 {
                close()
                try connect()
            }
            return nil
        } catch {
            return error
        }
    }
}
