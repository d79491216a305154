import CMariaDB
import Foundation

/// The current row of a result, read in place from the statement's stored result (see
/// `ResultLayout`): what `Database.forEachRow` hands its body, valid only during that call. Columns are read by
/// position (the select list's order), each straight into the Swift type asked for, with
/// no intermediate `DatabaseValue`; a column of another type, or NULL where a value is
/// required, throws a `RowDecodingError` naming the column, its table and the statement.
public struct RowCursor {
    let layout: ResultLayout
    let columns: ResultColumns
    let plans: DecodingPlans

    init(layout: ResultLayout, columns: ResultColumns, plans: DecodingPlans) {
        self.layout = layout
        self.columns = columns
        self.plans = plans
    }

    /// Where the decoder `key` found its columns in this result, kept with the statement
    /// for every row and execution after the one it learnt them on.
    public func plan(for key: ObjectIdentifier) -> DecodingPlan { plans.plan(for: key) }

    public var count: Int { columns.names.count }
    public var columnNames: [String] { columns.names }

    /// The position of the first column called `name`.
    public func index(of name: String) -> Int? { columns.index[name] }

    /// As `index(of:)`, for a column the statement selects: its absence is a decoding error.
    public func position(of name: String) throws -> Int {
        guard let index = columns.index[name] else {
            throw RowDecodingError(column: name, table: nil, sql: columns.sql, problem: "no such column in the result")
        }
        return index
    }

    public func isNull(_ index: Int) -> Bool { place(index) == nil }

    /// The column as a `DatabaseValue` (generic readers, `Row`).
    public func value(_ index: Int) -> DatabaseValue {
        guard let bytes = place(index) else { return .null }
        switch layout.kinds[index] {
        case .integer(let unsigned, _):
            return bytes.integer(unsigned: unsigned).map(DatabaseValue.int) ?? .null
        case .real:
            return bytes.real.map(DatabaseValue.double) ?? .null
        case .time:
            return .date(bytes.time.utcDate)
        case .duration:
            return .string(bytes.durationText)
        case .bytes(let binary):
            return binary ? .bytes(Array(bytes)) : .string(String(decoding: bytes, as: UTF8.self))
        }
    }

    // MARK: - Typed reads

    public func string(_ index: Int) throws -> String {
        guard let text = try optionalString(index) else { throw mismatch(index, "String") }
        return text
    }

    /// The column's text, as `candidate` itself when it holds the same bytes: a value that
    /// repeats down a result (the asset id of each of its variants) then shares one String
    /// instead of allocating it again for every row.
    public func string(_ index: Int, reusing candidate: String?) throws -> String {
        // Strings of up to 15 bytes are stored inline, without an allocation to save.
        if var candidate, candidate.utf8.count > 15, let bytes = place(index), case .bytes = layout.kinds[index] {
            let same = candidate.withUTF8 { text in
                guard text.count == bytes.count, let left = text.baseAddress, let right = bytes.baseAddress else { return false }
                return memcmp(left, right, bytes.count) == 0
            }
            if same { return candidate }
        }
        return try string(index)
    }

    /// Text or bytes as a String; an integer column as its digits.
    public func optionalString(_ index: Int) throws -> String? {
        guard let bytes = place(index) else { return nil }
        switch layout.kinds[index] {
        case .bytes: return String(decoding: bytes, as: UTF8.self)
        case .integer, .duration: return String.fromDatabaseValue(value(index))
        default: throw mismatch(index, "String")
        }
    }

    public func int64(_ index: Int) throws -> Int64 {
        guard let number = try optionalInt64(index) else { throw mismatch(index, "Int64") }
        return number
    }

    public func optionalInt64(_ index: Int) throws -> Int64? {
        guard let bytes = place(index) else { return nil }
        guard case .integer(let unsigned, _) = layout.kinds[index], let number = bytes.integer(unsigned: unsigned) else {
            guard let number = Int64.fromDatabaseValue(value(index)) else { throw mismatch(index, "Int64") }
            return number
        }
        return number
    }

    public func int(_ index: Int) throws -> Int {
        guard let number = try optionalInt(index) else { throw mismatch(index, "Int") }
        return number
    }

    public func optionalInt(_ index: Int) throws -> Int? {
        guard let number = try optionalInt64(index) else { return nil }
        guard let exact = Int(exactly: number) else { throw mismatch(index, "Int") }
        return exact
    }

    public func date(_ index: Int) throws -> Date {
        guard let date = try optionalDate(index) else { throw mismatch(index, "Date") }
        return date
    }

    public func optionalDate(_ index: Int) throws -> Date? {
        guard let bytes = place(index) else { return nil }
        guard case .time = layout.kinds[index] else { throw mismatch(index, "Date") }
        return bytes.time.utcDate
    }

    /// A text or bytes column's bytes, in place: valid while the row is (during the body it
    /// was handed to). Enums and JSON are decoded from them without making a String first.
    public func bytes(_ index: Int) throws -> UnsafeRawBufferPointer? {
        guard let bytes = place(index) else { return nil }
        guard case .bytes = layout.kinds[index] else { throw mismatch(index, "bytes") }
        return bytes
    }

    /// What a decoding error says about column `index`.
    public func mismatch(_ index: Int, _ expected: String) -> RowDecodingError {
        guard columns.names.indices.contains(index) else {
            return RowDecodingError(column: "#\(index)", table: nil, sql: columns.sql, problem: "no such column in the result")
        }
        return RowDecodingError(column: columns.names[index], table: columns.tables[index], sql: columns.sql,
                                problem: "holds \(value(index)), not \(expected)")
    }

    public var sql: String { columns.sql }

    /// The value's bytes in the stored row; nil for SQL NULL or a column the result lacks.
    @inline(__always)
    private func place(_ index: Int) -> UnsafeRawBufferPointer? {
        guard index >= 0, index < layout.kinds.count else { return nil }
        return layout.bytes(index)
    }
}

/// The result positions a decoder (one record type) asked for, in the order it asked: it
/// looks the names up on the first row it reads, and later rows read the same positions
/// without comparing a name. Valid while the statement's result has the same columns.
public final class DecodingPlan {
    public private(set) var positions: [Int] = []

    /// The position of the next column the decoder asks for, found on the row it reads now.
    public func learn(_ position: Int) { positions.append(position) }
}

/// A statement's decoding plans, one per decoder, replaced when its result's columns change.
final class DecodingPlans {
    private var plans: [(key: ObjectIdentifier, plan: DecodingPlan)] = []

    func plan(for key: ObjectIdentifier) -> DecodingPlan {
        for entry in plans where entry.key == key { return entry.plan }
        let plan = DecodingPlan()
        plans.append((key, plan))
        return plan
    }
}
