import Foundation

/// A value as it crosses the wire: what a statement binds and what a row holds.
public enum DatabaseValue: Equatable, Sendable {
    case null
    case int(Int64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    /// DATETIME(3): always UTC, millisecond precision.
    case date(Date)
}

/// What a DATETIME(3) column holds: 1000-01-01 00:00:00.000 to 9999-12-31 23:59:59.999
/// UTC, as milliseconds since the epoch. A date outside is refused when bound.
public enum DateTimeRange {
    public static let milliseconds: ClosedRange<Int64> = -30_610_224_000_000...253_402_300_799_999
}

/// A Swift type that can be bound as a parameter and decoded from a column.
public protocol DatabaseValueConvertible {
    var databaseValue: DatabaseValue { get }
    static func fromDatabaseValue(_ value: DatabaseValue) -> Self?
}

extension String: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .string(self) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> String? {
        switch value {
        case .string(let text): return text
        case .bytes(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .int(let number): return String(number)
        default: return nil
        }
    }
}

extension Int64: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .int(self) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> Int64? {
        switch value {
        case .int(let number): return number
        case .string(let text): return Int64(text)
        default: return nil
        }
    }
}

extension Int: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .int(Int64(self)) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> Int? {
        Int64.fromDatabaseValue(value).flatMap { Int(exactly: $0) }
    }
}

extension Int32: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .int(Int64(self)) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> Int32? {
        Int64.fromDatabaseValue(value).flatMap { Int32(exactly: $0) }
    }
}

extension Double: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .double(self) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> Double? {
        switch value {
        case .double(let number): return number
        case .int(let number): return Double(number)
        case .string(let text): return Double(text)
        default: return nil
        }
    }
}

/// Prisma's Boolean is TINYINT(1).
extension Bool: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .int(self ? 1 : 0) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> Bool? {
        Int64.fromDatabaseValue(value).map { $0 != 0 }
    }
}

extension Date: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .date(self) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> Date? {
        if case .date(let date) = value { return date }
        return nil
    }
}

extension Optional: DatabaseValueConvertible where Wrapped: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { self?.databaseValue ?? .null }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> Wrapped?? {
        if case .null = value { return .some(nil) }
        return Wrapped.fromDatabaseValue(value).map { .some($0) }
    }
}

/// A JSON column's text. MariaDB stores JSON as LONGTEXT with a json_valid check, so the
/// text must be valid JSON; SQL NULL is `Optional<JSONText>.none`, JSON null is `JSONText("null")`.
public struct JSONText: DatabaseValueConvertible, Equatable, Sendable {
    public let text: String

    public init(_ text: String) { self.text = text }

    /// Encodes a value as JSON text.
    public init<T: Encodable>(encoding value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        text = String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    public var databaseValue: DatabaseValue { .string(text) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> JSONText? {
        String.fromDatabaseValue(value).map(JSONText.init)
    }
}

/// BLOB / VARBINARY.
extension Array: DatabaseValueConvertible where Element == UInt8 {
    public var databaseValue: DatabaseValue { .bytes(self) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> [UInt8]? {
        if case .bytes(let bytes) = value { return bytes }
        return nil
    }
}

/// A Prisma enum column (stored as its value's name): bound and decoded as its raw value,
/// so SQL never spells an enum value as a literal.
public protocol DatabaseEnum: RawRepresentable, CaseIterable, DatabaseValueConvertible, Sendable where RawValue == String {
    /// The values' names for reading a column in place: `static let databaseNames = DatabaseEnumNames<Self>()`.
    static var databaseNames: DatabaseEnumNames<Self> { get }
}

/// An enum's names packed into two words each, so that a column's bytes are matched where
/// they lie: no String per row, and no search through Strings (`init(rawValue:)`, or
/// comparing each case's name, was a few hundred instructions a column). Inlinable, so that
/// each record's reader specializes it (unspecialized, its generic calls cost more still).
public struct DatabaseEnumNames<Value: DatabaseEnum>: Sendable {
    @usableFromInline let names: [PackedName]
    @usableFromInline let values: [Value]

    public init() {
        values = Array(Value.allCases)
        names = values.map { value in
            var name = value.rawValue
            return name.withUTF8 { PackedName(UnsafeRawBufferPointer($0)) }
        }
    }

    /// The value whose name is `bytes`, if any.
    @inlinable
    public func value(named bytes: UnsafeRawBufferPointer) -> Value? {
        let name = PackedName(bytes)
        guard name.length <= PackedName.capacity else { return Value(rawValue: String(decoding: bytes, as: UTF8.self)) }
        for index in 0..<names.count where names[index] == name { return values[index] }
        return nil
    }
}

/// Up to 16 bytes of an enum value's name in two words, and its length (a longer name
/// keeps only its length). Not nested in `DatabaseEnumNames`: a type inside a generic one
/// is generic too, and its metadata was looked up at run time on every match.
@usableFromInline
struct PackedName: Equatable, Sendable {
    @usableFromInline static var capacity: Int { 16 }
    @usableFromInline var low: UInt64 = 0, high: UInt64 = 0
    @usableFromInline let length: Int

    @inlinable
    init(_ bytes: UnsafeRawBufferPointer) {
        length = bytes.count
        guard length <= Self.capacity, let base = bytes.baseAddress else { return }
        var words: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &words) { $0.baseAddress?.copyMemory(from: base, byteCount: length) }
        (low, high) = words
    }
}

extension DatabaseEnum {
    public var databaseValue: DatabaseValue { .string(rawValue) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> Self? {
        String.fromDatabaseValue(value).flatMap(Self.init(rawValue:))
    }
}
