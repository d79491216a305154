/// One result row. Columns are looked up by name, as the query's select list spells them.
public struct Row: Sendable {
    let columns: ColumnNames
    public let values: [DatabaseValue]

    public subscript(_ column: String) -> DatabaseValue {
        guard let index = columns.index[column] else { return .null }
        return values[index]
    }

    /// The column decoded as `T`; an error naming the column when it is missing or of
    /// another type (a query and its decoder disagreeing is a programming error).
    public func get<T: DatabaseValueConvertible>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let index = columns.index[column] else {
            throw DatabaseError(code: 0, sqlState: "HY000", message: "no column `\(column)` in the result", sql: nil)
        }
        guard let value = T.fromDatabaseValue(values[index]) else {
            throw DatabaseError(code: 0, sqlState: "HY000",
                                message: "column `\(column)` holds \(values[index]), not \(T.self)", sql: nil)
        }
        return value
    }

    public var columnNames: [String] { columns.names }
}

/// Column names shared by every row of one result.
final class ColumnNames: Sendable {
    let names: [String]
    let index: [String: Int]

    init(_ names: [String]) {
        self.names = names
        var index: [String: Int] = [:]
        for (position, name) in names.enumerated() where index[name] == nil { index[name] = position }
        self.index = index
    }
}
