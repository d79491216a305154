import Foundation
import MariaDB

/// A record stored as one row of one table. Its columns are declared once, as `Column`; the
/// select list, the INSERT and its placeholders are derived from that list, and
/// `value(of:)`'s exhaustive switch makes the compiler check that every column is written.
protocol TableRecord {
    associatedtype Column: RawRepresentable, CaseIterable where Column.RawValue == String, Column.AllCases == [Column]
    static var table: String { get }
    /// Every column, quoted, in declaration order: the select list of a whole record. Each
    /// record keeps `columnList()` as a stored constant; it is in most of its queries' text.
    static var selection: String { get }
    init(row: RowCursor) throws
    /// The value this record stores in `column`.
    func value(of column: Column) throws -> any DatabaseValueConvertible
}

extension TableRecord {
    static func columnList() -> String { Column.allCases.map { "`\($0.rawValue)`" }.joined(separator: ", ") }

    /// `INSERT INTO table (columns) VALUES (?, …)` for `count` records.
    static func insertStatement(count: Int) -> String {
        let row = "(" + sqlPlaceholders(Column.allCases.count) + ")"
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

    /// Every held row decoded (see `Database.holdingRows`).
    static func decodeAll(_ held: HeldRows, decoding decode: (RowCursor) throws -> Self = Self.init(row:)) throws -> [Self] {
        var records: [Self] = []
        records.reserveCapacity(held.count)
        try held.forEachRow { records.append(try decode($0)) }
        return records
    }

    /// The first record of a query's rows, if any.
    static func fetchOne(_ database: Database, _ sql: String,
                         _ arguments: [any DatabaseValueConvertible] = []) throws -> Self? {
        try fetchAll(database, sql, arguments).first
    }
}

/// `?, ?, …`: `count` parameter placeholders, for an `IN (…)` list or a row of values.
func sqlPlaceholders(_ count: Int) -> String {
    count > 0 ? String(repeating: "?, ", count: count - 1) + "?" : ""
}

/// Reads a record's columns in place from the result (see `RowCursor`), each straight into
/// its field's type. On the first row of a statement's result each column is found by
/// name (at the next position when the select list is `Column.allCases`, the usual case);
/// the positions found are the statement's `DecodingPlan` for this record, and every later
/// row reads them without a name comparison. A record's `init(row:)` therefore asks for
/// its columns in the same sequence on every row (straight-line code; debug builds check).
struct RecordReader<Column: RawRepresentable> where Column.RawValue == String {
    let row: RowCursor
    private let plan: DecodingPlan
    /// The plan's positions when this row began (a local copy: no access check per read).
    private let planned: [Int]
    private var position = 0

    init(_ row: RowCursor) {
        self.row = row
        self.plan = row.plan(for: ObjectIdentifier(Column.self))
        self.planned = plan.positions
    }

    /// Where `column` is in the result.
    private mutating func index(_ column: Column) throws -> Int {
        let position = self.position
        self.position += 1
        if position < planned.count {
            let index = planned[position]
            assert(row.columnNames[index] == column.rawValue, "\(Column.self) read its columns in another sequence")
            return index
        }
        let names = row.columnNames
        let index: Int
        if position < names.count, names[position] == column.rawValue {
            index = position
        } else if let found = row.index(of: column.rawValue) {
            index = found
        } else {
            throw RowDecodingError(column: column.rawValue, table: nil, sql: row.sql, problem: "no such column in the result")
        }
        // A row before this one that failed part-way learnt the positions up to here only.
        if plan.positions.count == position { plan.learn(index) }
        return index
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
    /// A Prisma enum column, its bytes matched in place against the enum's names (see
    /// `DatabaseEnumNames`).
    mutating func next<E: DatabaseEnum>(_ column: Column) throws -> E {
        let index = try index(column)
        let value = try row.bytes(index).flatMap(E.databaseNames.value(named:))
        guard let value else { throw row.mismatch(index, "\(E.self)") }
        return value
    }
    mutating func next(_ column: Column) throws -> JSONText? { try row.optionalString(index(column)).map(JSONText.init) }

    /// A JSON column parsed in place with JSONSerialization (no String, no JSONDecoder per
    /// row); nil for SQL NULL or text that does not parse.
    mutating func nextJSONObject(_ column: Column) throws -> Any? {
        guard let bytes = try row.bytes(index(column)), let base = bytes.baseAddress else { return nil }
        let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none)
        return try? JSONSerialization.jsonObject(with: data)
    }
}
