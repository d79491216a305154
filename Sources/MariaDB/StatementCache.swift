/// Prepared statements of one connection by SQL text, at most `capacity` of them. The least
/// recently used one is closed when a new one needs room: every `IN (?, …)` list of a new
/// length is a new statement, and the server refuses all prepares past
/// `max_prepared_stmt_count`, so a long-lived worker must not keep them all.
struct StatementCache {
    let capacity: Int
    private var entries: [String: (statement: Statement, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0

    init(capacity: Int) {
        precondition(capacity > 0, "the statement cache holds at least one statement")
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// The cached statement for `sql`, marked as just used.
    mutating func statement(for sql: String) -> Statement? {
        guard let entry = entries[sql] else { return nil }
        clock += 1
        entries[sql] = (entry.statement, clock)
        return entry.statement
    }

    /// Adds a statement, closing the least recently used one first when full. A linear scan:
    /// it runs only beside a prepare, a server round trip that costs far more.
    mutating func insert(_ statement: Statement) {
        if entries.count >= capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            entries.removeValue(forKey: oldest.key)
            oldest.value.statement.close()
        }
        clock += 1
        entries[statement.sql] = (statement, clock)
    }

    /// Closes every statement (the connection is going away).
    mutating func removeAll() {
        for entry in entries.values { entry.statement.close() }
        entries.removeAll()
    }
}
