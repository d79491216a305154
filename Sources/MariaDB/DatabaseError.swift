import CMariaDB

/// A MariaDB error with the statement that caused it.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    public let code: UInt32
    public let sqlState: String
    public let message: String
    public let sql: String?

    public init(code: UInt32, sqlState: String, message: String, sql: String?) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.sql = sql
    }

    /// Duplicate key (1062): a conflict the API answers with 409.
    public var isDuplicateKey: Bool { code == UInt32(ER_DUP_ENTRY) }
    public var isDeadlock: Bool { code == UInt32(ER_LOCK_DEADLOCK) }
    public var isLockWaitTimeout: Bool { code == UInt32(ER_LOCK_WAIT_TIMEOUT) }
    /// The whole transaction may be retried.
    public var isTransient: Bool { isDeadlock || isLockWaitTimeout }

    /// The server cannot be reached or the connection dropped: the service is unavailable.
    public var isConnectionFailure: Bool {
        switch Int32(code) {
        case CR_CONNECTION_ERROR, CR_CONN_HOST_ERROR, CR_SERVER_GONE_ERROR, CR_SERVER_LOST,
             CR_UNKNOWN_HOST, CR_SERVER_LOST_EXTENDED, CR_IPSOCK_ERROR, CR_SOCKET_CREATE_ERROR:
            return true
        default:
            // The server going down answers pending work with a shutdown error.
            return code == UInt32(ER_SERVER_SHUTDOWN) || code == 1927 /* ER_CONNECTION_KILLED */
        }
    }

    public var description: String {
        var text = "MariaDB error \(code) (\(sqlState)): \(message)"
        if let sql { text += " — in `\(sql.count > 200 ? String(sql.prefix(200)) + "…" : sql)`" }
        return text
    }
}
