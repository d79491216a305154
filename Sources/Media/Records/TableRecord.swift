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

extension Row {
    /// A record's column, decoded.
    func get<T: DatabaseValueConvertible, C: RawRepresentable>(_ column: C, as type: T.Type = T.self) throws -> T
    where C.RawValue == String {
        try get(column.rawValue, as: type)
    }
}
