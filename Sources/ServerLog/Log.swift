#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A value in a log line.
public enum LogValue: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(_ value: Int) { self = .int(Int64(value)) }
    public init(_ value: Int32) { self = .int(Int64(value)) }
    public init(_ value: UInt64) { self = .int(Int64(clamping: value)) }
    public init(_ value: String) { self = .string(value) }
}

/// How much a log line matters; the `level` field of every line.
public enum LogLevel: String, Sendable {
    case info, warning, error
}

/// One JSON object per line on stderr: per request, per job state change, per pool event.
/// Lines are written with a single write(2) so lines from the pool's processes never interleave.
public enum Log {
    public static func info(_ event: String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        write(level: .info, event: event, fields: Array(fields))
    }

    public static func warning(_ event: String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        write(level: .warning, event: event, fields: Array(fields))
    }

    public static func error(_ event: String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        write(level: .error, event: event, fields: Array(fields))
    }

    public static func write(level: LogLevel, event: String, fields: [(key: String, value: LogValue)]) {
        var line: [UInt8] = []
        line.reserveCapacity(256)
        line += Array("{\"time\":\"".utf8)
        JSONBytes.appendTimestamp(Date(), to: &line)
        line += Array("\",\"level\":\"\(level.rawValue)\",\"event\":".utf8)
        JSONBytes.appendString(event, to: &line)
        line += Array(",\"pid\":".utf8)
        JSONBytes.appendInteger(Int64(getpid()), to: &line)
        for (key, value) in fields {
            line.append(UInt8(ascii: ","))
            JSONBytes.appendString(key, to: &line)
            line.append(UInt8(ascii: ":"))
            switch value {
            case .string(let text): JSONBytes.appendString(text, to: &line)
            case .int(let number): JSONBytes.appendInteger(number, to: &line)
            case .double(let number): line += Array((number.isFinite ? String(number) : "null").utf8)
            case .bool(let flag): line += Array((flag ? "true" : "false").utf8)
            }
        }
        line += Array("}\n".utf8)
        _ = line.withUnsafeBytes { writeAll(2, $0) }
    }

    /// ISO-8601 UTC with milliseconds, the format of every date this service writes.
    public static func timestamp(_ date: Date = Date()) -> String {
        var bytes: [UInt8] = []
        JSONBytes.appendTimestamp(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
