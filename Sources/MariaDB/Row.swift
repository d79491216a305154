/// One result row, copied out of the statement's stored result (`Database.query`). Columns are
/// looked up by name, as the query's select list spells them. Hot paths read rows in place
/// with `RowCursor` instead.
public struct Row: Sendable {
    let columns: ResultColumns
    public let values: [DatabaseValue]

    init(_ cursor: RowCursor) {
        self.columns = cursor.columns
        self.values = (0..<cursor.count).map(cursor.value)
    }

    public subscript(_ column: String) -> DatabaseValue {
        guard let index = columns.index[column] else { return .null }
        return values[index]
    }

    /// The column decoded as `T`; a `RowDecodingError` naming the column, its table and the
    /// statement when it is missing or of another type (a query and its decoder disagreeing
    /// is a programming error, or a row the Node app wrote that this service cannot read).
    public func get<T: DatabaseValueConvertible>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let index = columns.index[column] else {
            throw RowDecodingError(column: column, table: nil, sql: columns.sql, problem: "no such column in the result")
        }
        guard let value = T.fromDatabaseValue(values[index]) else {
            throw RowDecodingError(column: column, table: columns.tables[index], sql: columns.sql,
                                   problem: "holds \(values[index]), not \(T.self)")
        }
        return value
    }

    public var columnNames: [String] { columns.names }

    /// The statement this row came from, and the table (or alias) of the column at `index`:
    /// what a decoding error names.
    public var sql: String { columns.sql }
    public func table(at index: Int) -> String? { columns.tables.indices.contains(index) ? columns.tables[index] : nil }
}

/// A row that does not decode into the record its query was written for.
public struct RowDecodingError: Error, CustomStringConvertible, Sendable {
    public let column: String
    /// The column's table (or alias) as the server reported it; nil for a missing column.
    public let table: String?
    public let sql: String
    public let problem: String

    public init(column: String, table: String?, sql: String, problem: String) {
        self.column = column
        self.table = table
        self.sql = sql
        self.problem = problem
    }

    public var description: String {
        let place = (table.map { $0.isEmpty ? "" : "`\($0)`." } ?? "") + "`\(column)`"
        return "cannot decode \(place): \(problem) — in `\(sql.count > 200 ? String(sql.prefix(200)) + "…" : sql)`"
    }
}

/// What every row of one result shares: column names (and their index), their tables, the SQL.
final class ResultColumns: Sendable {
    let names: [String]
    let tables: [String]
    let sql: String
    let index: [String: Int]

    init(names: [String], tables: [String], sql: String) {
        self.names = names
        self.tables = tables
        self.sql = sql
        var index: [String: Int] = [:]
        for (position, name) in names.enumerated() where index[name] == nil { index[name] = position }
        self.index = index
    }
}
