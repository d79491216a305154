import MariaDB

/// A record stored as one row of one table. Its columns are declared once, as `Column`; the
/// select list, the INSERT and its placeholders are derived from that list, and
/// `value(of:)`'s exhaustive switch makes the compiler check that every column is written.
protocol TableRecord {
    associatedtype Column: RawRepresentable, CaseIterable where Column.RawValue == String, Column.AllCases == [Column]
    static var table: String { get }
    init(row: Row) throws
    /// The value this record stores in `column`.
    func value(of column: Column) throws -> any DatabaseValueConvertible
}

extension TableRecord {
    /// Every column, quoted, in declaration order: the select list of a whole record.
    static var selection: String { Column.allCases.map { "`\($0.rawValue)`" }.joined(separator: ", ") }

    /// `INSERT INTO table (columns) VALUES (?, …)` for `count` records.
    static func insertStatement(count: Int) -> String {
        let row = "(" + Array(repeating: "?", count: Column.allCases.count).joined(separator: ", ") + ")"
        return "INSERT INTO `\(table)` (\(selection)) VALUES " + Array(repeating: row, count: count).joined(separator: ", ")
    }

    /// The record's values in column order, as the INSERT binds them.
    func insertValues() throws -> [any DatabaseValueConvertible] {
        try Column.allCases.map(value(of:))
    }
}

/// Reads a record's columns in their declared order: the select list is `Column.allCases`,
/// so each column is at the next position, found without a name lookup and decoded by a
/// call specialized for its type (the generic `Row.get` across modules costs a metadata
/// lookup per column). A column found elsewhere (a query with another select list) is
/// looked up by name.
struct RecordReader<Column: RawRepresentable> where Column.RawValue == String {
    let row: Row
    private let names: [String]
    private var position = 0

    init(_ row: Row) {
        self.row = row
        self.names = row.columnNames
    }

    mutating func next<T: DatabaseValueConvertible>(_ column: Column, as type: T.Type = T.self) throws -> T {
        let index = position
        position += 1
        guard index < names.count, names[index] == column.rawValue else { return try row.get(column.rawValue) }
        let value = row.values[index]
        guard let decoded = T.fromDatabaseValue(value) else {
            throw RowDecodingError(column: column.rawValue, table: row.table(at: index), sql: row.sql,
                                   problem: "holds \(value), not \(T.self)")
        }
        return decoded
    }
}
