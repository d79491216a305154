import Foundation

/// JSON string literals, integers and ISO-8601 timestamps written straight into UTF-8
/// bytes: the log lines and every API response are built this way, without intermediate
/// Strings. Each is a writer into memory with room for its `maximum…` bytes (what the
/// API's `JSONWriter` calls) and an appender to `[UInt8]` built on it (the log's).
/// Inlinable: the API writes thousands of these per response, and a call across modules
/// for each was most of the cost of rendering one.
public enum JSONBytes {
    // MARK: - Strings

    /// The most bytes `writeString` writes for `byteCount` bytes of UTF-8: every byte a
    /// `\u00XX` escape, and the quotes.
    @inlinable
    public static func maximumStringLength(_ byteCount: Int) -> Int { byteCount * 6 + 2 }

    /// Writes `utf8` at `out` as a JSON string literal: `"`, `\` and control characters
    /// escaped, everything else copied as the UTF-8 it already is; returns the byte count.
    @inlinable
    public static func writeString(_ utf8: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>) -> Int {
        out[0] = quote
        let written = 1 + writeEscaped(utf8, to: out + 1)
        out[written] = quote
        return written + 1
    }

    /// Writes `utf8` at `out` escaped as the inside of a JSON string literal, without the
    /// quotes (a string written in parts); at most `maximumStringLength(count) - 2` bytes.
    /// Scanning and copying are one pass, eight bytes at a time: each word is stored whole
    /// (the bytes after an escape are written over by what follows), and the room the
    /// worst case needs (six bytes a byte) always covers the word.
    @inlinable
    public static func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>) -> Int {
        guard let base = utf8.baseAddress else { return 0 }
        var index = 0, written = 0
        while index + 8 <= utf8.count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            UnsafeMutableRawPointer(out + written).storeBytes(of: word, as: UInt64.self)
            let found = escapeBits(word)
            guard found != 0 else {
                index += 8
                written += 8
                continue
            }
            let clean = found.littleEndian.trailingZeroBitCount / 8
            index += clean
            written += clean
            written += writeEscape(base[index], to: out + written)
            index += 1
        }
        while index < utf8.count {
            let byte = base[index]
            if byte == quote || byte == backslash || byte < 0x20 {
                written += writeEscape(byte, to: out + written)
            } else {
                out[written] = byte
                written += 1
            }
            index += 1
        }
        return written
    }

    /// The high bit of each byte of `word` (in memory order, little-endian) that may need
    /// an escape: a zero-byte search for a quote, a backslash or a byte below 0x20. The
    /// lowest flagged byte is always a real match; a higher one may be a false one, which
    /// is why the caller escapes one byte and scans again from the next.
    @inlinable
    static func escapeBits(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* UInt64(quote)), backslashes = word ^ (ones &* UInt64(backslash))
        return ((quotes &- ones) & ~quotes | (backslashes &- ones) & ~backslashes | (word &- ones &* 0x20) & ~word) & highs
    }

    /// Copies `count` bytes: short runs (keys, enum names) as two overlapping words instead
    /// of a call to memcpy, which cost more than the copy.
    @inlinable
    public static func copyBytes(_ source: UnsafePointer<UInt8>, count: Int, to out: UnsafeMutablePointer<UInt8>) {
        let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(out)
        switch count {
        case 8...16:
            to.storeBytes(of: from.loadUnaligned(as: UInt64.self), as: UInt64.self)
            (to + count - 8).storeBytes(of: (from + count - 8).loadUnaligned(as: UInt64.self), as: UInt64.self)
        case 4..<8:
            to.storeBytes(of: from.loadUnaligned(as: UInt32.self), as: UInt32.self)
            (to + count - 4).storeBytes(of: (from + count - 4).loadUnaligned(as: UInt32.self), as: UInt32.self)
        case 0..<4:
            for offset in 0..<count { out[offset] = source[offset] }
        default:
            out.update(from: source, count: count)
        }
    }

    /// Appends `text` as a JSON string literal (see `writeString`).
    @inlinable
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            append(to: &out, maximum: maximumStringLength(utf8.count)) { writeString(utf8, to: $0) }
        }
    }

    // MARK: - Integers

    /// The most bytes `writeInteger` writes: a sign and 20 digits, or `minimumDigits`.
    @inlinable
    public static func maximumIntegerLength(minimumDigits: Int = 1) -> Int { 1 + max(20, minimumDigits) }

    /// Writes `value` in decimal at `out`, zero-padded to at least `minimumDigits` digits
    /// (after the sign); returns the byte count. Two digits per division, from the end.
    @inlinable
    public static func writeInteger(_ value: Int64, minimumDigits: Int = 1, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var written = 0
        if value < 0 {
            out[0] = UInt8(ascii: "-")
            written = 1
        }
        var remaining = value.magnitude  // Int64.min has a magnitude too
        let digits = max(decimalDigits(remaining), minimumDigits)
        var position = written + digits
        while remaining >= 100 {
            let pair = remaining % 100
            remaining /= 100
            position -= 2
            out[position] = UInt8(truncatingIfNeeded: 48 + pair / 10)
            out[position + 1] = UInt8(truncatingIfNeeded: 48 + pair % 10)
        }
        if remaining >= 10 {
            position -= 2
            out[position] = UInt8(truncatingIfNeeded: 48 + remaining / 10)
            out[position + 1] = UInt8(truncatingIfNeeded: 48 + remaining % 10)
        } else {
            position -= 1
            out[position] = UInt8(truncatingIfNeeded: 48 + remaining)
        }
        while position > written {
            position -= 1
            out[position] = UInt8(ascii: "0")
        }
        return written + digits
    }

    /// How many decimal digits `value` has (1 for zero).
    @inlinable
    static func decimalDigits(_ value: UInt64) -> Int {
        var value = value, digits = 1
        while value >= 10_000 {
            value /= 10_000
            digits += 4
        }
        if value >= 100 {
            value /= 100
            digits += 2
        }
        return value >= 10 ? digits + 1 : digits
    }

    /// Appends `value` in decimal, zero-padded to at least `minimumDigits` digits (after
    /// the sign): JSON numbers, log fields and timestamp fields, with no String in between.
    @inlinable
    public static func appendInteger(_ value: Int64, minimumDigits: Int = 1, to out: inout [UInt8]) {
        append(to: &out, maximum: maximumIntegerLength(minimumDigits: minimumDigits)) {
            writeInteger(value, minimumDigits: minimumDigits, to: $0)
        }
    }

    // MARK: - Timestamps

    /// The most bytes `writeTimestamp` writes (a year of up to 21 characters, then 20).
    public static let maximumTimestampLength = 41

    /// Writes `date` at `out` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds truncated);
    /// returns the byte count.
    @inlinable
    public static func writeTimestamp(_ date: Date, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let scaled = (date.timeIntervalSince1970 * 1000).rounded(.down)
        // Outside ±292 million years Int64 cannot hold it: such a date is written clamped.
        let milliseconds = Int64(exactly: scaled) ?? (scaled < 0 ? Int64.min / 2 : Int64.max / 2)
        let (days, millisecondOfDay) = floorDivision(milliseconds, 86_400_000)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        var written: Int
        if (0...9999).contains(year) {
            putDigits(year, 4, at: out)
            written = 4
        } else {
            written = writeInteger(year, minimumDigits: 4, to: out)
        }
        // The fixed-width rest: -MM-DDTHH:MM:SS.mmmZ
        let rest = out + written
        rest[0] = UInt8(ascii: "-"); putDigits(month, 2, at: rest + 1)
        rest[3] = UInt8(ascii: "-"); putDigits(day, 2, at: rest + 4)
        rest[6] = UInt8(ascii: "T"); putDigits(millisecondOfDay / 3_600_000, 2, at: rest + 7)
        rest[9] = UInt8(ascii: ":"); putDigits(millisecondOfDay / 60_000 % 60, 2, at: rest + 10)
        rest[12] = UInt8(ascii: ":"); putDigits(millisecondOfDay / 1000 % 60, 2, at: rest + 13)
        rest[15] = UInt8(ascii: "."); putDigits(millisecondOfDay % 1000, 3, at: rest + 16)
        rest[19] = UInt8(ascii: "Z")
        return written + 20
    }

    /// Writes the last `count` decimal digits of a non-negative `value`.
    @inlinable
    static func putDigits(_ value: Int64, _ count: Int, at out: UnsafeMutablePointer<UInt8>) {
        var value = value
        for position in stride(from: count - 1, through: 0, by: -1) {
            out[position] = UInt8(truncatingIfNeeded: 48 + value % 10)
            value /= 10
        }
    }

    /// Appends `date` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds truncated).
    @inlinable
    public static func appendTimestamp(_ date: Date, to out: inout [UInt8]) {
        append(to: &out, maximum: maximumTimestampLength) { writeTimestamp(date, to: $0) }
    }

    // MARK: -

    /// Runs a writer on room for `maximum` more bytes at the end of `out`, keeping what it wrote.
    @inlinable
    static func append(to out: inout [UInt8], maximum: Int,
                       _ write: (UnsafeMutablePointer<UInt8>) -> Int) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: maximum))
        let written = out.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { write($0 + start) } ?? 0
        }
        out.removeLast(maximum - written)
    }

    /// The proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`): no calendar library, no time zone.
    @usableFromInline
    static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
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

    @usableFromInline static var quote: UInt8 { UInt8(ascii: "\"") }
    @usableFromInline static var backslash: UInt8 { UInt8(ascii: "\\") }

    /// Writes the escape of `byte` (a quote, a backslash or a control character).
    @usableFromInline
    static func writeEscape(_ byte: UInt8, to out: UnsafeMutablePointer<UInt8>) -> Int {
        out[0] = backslash
        switch byte {
        case quote, backslash: out[1] = byte
        case UInt8(ascii: "\n"): out[1] = UInt8(ascii: "n")
        case UInt8(ascii: "\r"): out[1] = UInt8(ascii: "r")
        case UInt8(ascii: "\t"): out[1] = UInt8(ascii: "t")
        default:
            let hex = { (nibble: UInt8) in nibble < 10 ? 48 + nibble : 87 + nibble }
            (out[1], out[2], out[3], out[4], out[5]) = (UInt8(ascii: "u"), 48, 48, hex(byte >> 4), hex(byte & 0xf))
            return 6
        }
        return 2
    }

    @usableFromInline
    static func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
