import Foundation
import MariaDB

/// A record stored as one row of one table. Its columns are declared once, as `Column`; the
/// select list, the INSERT and its placeholders are derived from that list, and
/// `value(of:)`'s exhaustive switch makes the compiler check that every column is written.
protocol TableRecord {
    associatedtype Column: RawRepresentable, CaseIterable where Column.RawValue == String, Column.AllCases == [Column]
    static var table: String { get }
    init(row: RowCursor) throws
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

extension TableRecord {
    /// Every record a query's rows decode into (its select list is usually `selection`),
    /// each by `decode` (`init(row:)` unless a caller shares what it already holds).
    static func fetchAll(_ database: Database, _ sql: String, _ arguments: [any DatabaseValueConvertible] = [],
                         decoding decode: (RowCursor) throws -> Self = Self.init(row:)) throws -> [Self] {
        var records: [Self] = []
        try database.forEachRow(sql, arguments) { row, expectedRows in
            if records.isEmpty { records.reserveCapacity(expectedRows) }
            records.append(try decode(row))
        }
        return records
    }

    /// The first record of a query's rows, if any.
    static func fetchOne(_ database: Database, _ sql: String,
                         _ arguments: [any DatabaseValueConvertible] = []) throws -> Self? {
        try fetchAll(database, sql, arguments).first
    }
}

/// Reads a record's columns in their declared order, in place from the result (see
/// `RowCursor`): the select list is `Column.allCases`, so each column is at the next
/// position, found without a name lookup and read straight into its field's type. A column
/// found elsewhere (a query with another select list) is looked up by name.
struct RecordReader<Column: RawRepresentable> where Column.RawValue == String {
    let row: RowCursor
    private let names: [String]
    private var position = 0

    init(_ row: RowCursor) {
        self.row = row
        self.names = row.columnNames
    }

    /// Where `column` is: the next position when the select list is the record's.
    private mutating func index(_ column: Column) throws -> Int {
        let index = position
        position += 1
        if index < names.count, names[index] == column.rawValue { return index }
        guard let found = row.index(of: column.rawValue) else {
            throw RowDecodingError(column: column.rawValue, table: nil, sql: row.sql, problem: "no such column in the result")
        }
        return found
    }

    mutating func next(_ column: Column) throws -> String { try row.string(index(column)) }
    /// A String column that often repeats the last row's value (see `RowCursor.string(_:reusing:)`).
    mutating func next(_ column: Column, reusing candidate: String?) throws -> String {
        try row.string(index(column), reusing: candidate)
    }
    mutating func next(_ column: Column) throws -> String? { try row.optionalString(index(column)) }
    mutating func next(_ column: Column) throws -> Int64 { try row.int64(index(column)) }
    mutating func next(_ column: Column) throws -> Int { try row.int(index(column)) }
    mutating func next(_ column: Column) throws -> Int? { try row.optionalInt(index(column)) }
    mutating func next(_ column: Column) throws -> Date { try row.date(index(column)) }
    mutating func next(_ column: Column) throws -> Date? { try row.optionalDate(index(column)) }
    /// A Prisma enum column: its values are short ASCII names, Strings without an allocation.
    mutating func next<E: DatabaseEnum>(_ column: Column) throws -> E {
        let index = try index(column)
        guard let value = E(rawValue: try row.string(index)) else { throw row.mismatch(index, "\(E.self)") }
        return value
    }
    mutating func next(_ column: Column) throws -> JSONText? { try row.optionalString(index(column)).map(JSONText.init) }

    /// A JSON column parsed in place with JSONSerialization (no String, no JSONDecoder per
    /// row); nil for SQL NULL or text that does not parse.
    mutating func nextJSONObject(_ column: Column) throws -> Any? {
        try row.withBytes(index(column)) { bytes in
            guard let bytes, let base = bytes.baseAddress else { return nil }
            let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none)
            return try? JSONSerialization.jsonObject(with: data)
        }
    }
}
