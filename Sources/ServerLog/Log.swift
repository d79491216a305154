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
        var line = "{\"time\":\"\(timestamp())\",\"level\":\"\(level.rawValue)\",\"event\":"
        appendJSONString(event, to: &line)
        line += ",\"pid\":\(getpid())"
        for (key, value) in fields {
            line += ","
            appendJSONString(key, to: &line)
            line += ":"
            switch value {
            case .string(let text): appendJSONString(text, to: &line)
            case .int(let number): line += String(number)
            case .double(let number): line += number.isFinite ? String(number) : "null"
            case .bool(let flag): line += flag ? "true" : "false"
            }
        }
        line += "}\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { writeAll(2, UnsafeRawBufferPointer($0)) }
    }

    /// ISO-8601 UTC with milliseconds, the format of every date this service writes.
    public static func timestamp(_ date: Date = Date()) -> String {
        let millisecondsSinceEpoch = (date.timeIntervalSince1970 * 1000).rounded(.down)
        var seconds = time_t(Int64(millisecondsSinceEpoch / 1000))
        let milliseconds = Int(Int64(millisecondsSinceEpoch) - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds), 3))Z"
    }

    /// Appends `text` as a JSON string literal.
    public static func appendJSONString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
