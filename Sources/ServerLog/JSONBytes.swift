import Foundation

/// JSON string literals and ISO-8601 timestamps written straight into UTF-8 bytes: the log
/// lines and every API response are built this way, without intermediate Strings.
public enum JSONBytes {
    /// Appends `text` as a JSON string literal: `"`, `\` and control characters escaped,
    /// everything else copied as the UTF-8 it already is.
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            out.reserveCapacity(out.count + utf8.count + 2)
            out.append(quote)
            var runStart = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte == quote || byte == backslash || byte < 0x20 else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                appendEscape(byte, to: &out)
                runStart = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
            out.append(quote)
        }
    }

    /// Appends `date` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds truncated).
    public static func appendTimestamp(_ date: Date, to out: inout [UInt8]) {
        let scaled = (date.timeIntervalSince1970 * 1000).rounded(.down)
        // Outside ±292 million years Int64 cannot hold it: such a date is written clamped.
        let milliseconds = Int64(exactly: scaled) ?? (scaled < 0 ? Int64.min / 2 : Int64.max / 2)
        let (days, millisecondOfDay) = floorDivision(milliseconds, 86_400_000)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        appendInteger(year, minimumDigits: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendInteger(month, minimumDigits: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendInteger(day, minimumDigits: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendInteger(millisecondOfDay / 3_600_000, minimumDigits: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendInteger(millisecondOfDay / 60_000 % 60, minimumDigits: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendInteger(millisecondOfDay / 1000 % 60, minimumDigits: 2, to: &out)
        out.append(UInt8(ascii: "."))
        appendInteger(millisecondOfDay % 1000, minimumDigits: 3, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// The proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`): no calendar library, no time zone.
    private static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = floorDivision(shifted, 146_097).quotient
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")
    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func appendEscape(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(backslash)
        switch byte {
        case quote, backslash: out.append(byte)
        case UInt8(ascii: "\n"): out.append(UInt8(ascii: "n"))
        case UInt8(ascii: "\r"): out.append(UInt8(ascii: "r"))
        case UInt8(ascii: "\t"): out.append(UInt8(ascii: "t"))
        default:
            out.append(contentsOf: Array("u00".utf8))
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0xf)])
        }
    }

    /// Appends `value` in decimal, zero-padded to at least `minimumDigits` digits (after
    /// the sign): JSON numbers, log fields and timestamp fields, with no String in between.
    public static func appendInteger(_ value: Int64, minimumDigits: Int = 1, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var remaining = value.magnitude  // Int64.min has a magnitude too
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: a UInt64 has at most 20 digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            var position = buffer.count
            let stop = buffer.count - min(minimumDigits, buffer.count)
            repeat {
                position -= 1
                buffer[position] = UInt8(48 + remaining % 10)
                remaining /= 10
            } while remaining > 0 || position > stop
            out.append(contentsOf: buffer[position...])
        }
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
