import CMariaDB

/// A query's result held whole in the client while other statements run (see
/// `Database.holdingRows`): what a read keeps undecoded until it knows it needs the rows.
public struct HeldRows {
    private let stored: StoredResult
    private let statement: Statement
    private let execution: UInt64

    init(_ stored: StoredResult, statement: Statement, execution: UInt64) {
        self.stored = stored
        self.statement = statement
        self.execution = execution
    }

    public var count: Int { stored.rowCount }

    /// Hands each row to `body`, from the first, read in place (see `RowCursor`). When the
    /// result is gone (the connection was reopened meanwhile, or the statement ran again),
    /// fails as a lost connection: the caller's read is safe to run again whole.
    public func forEachRow(_ body: (RowCursor) throws -> Void) throws {
        guard statement.holds(execution) else {
            throw DatabaseError(code: UInt32(CR_SERVER_LOST), sqlState: "HY000",
                                message: "the held result was freed when its statement closed or ran again",
                                sql: statement.sql)
        }
        stored.rewind()
        while try stored.fetch(digesting: nil) { try body(stored.cursor) }
    }
}
