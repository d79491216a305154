import CMariaDB

/// Where each column of the row being fetched lies in the statement's stored result, and
/// how its bytes read. Results are not bound to buffers: libmariadb hands each column's
/// place in the stored row (the binary protocol's bytes) to `locateColumn`, which records
/// it here, and `RowCursor` reads the values from there. Binding copied every column into
/// a buffer (and needed the result's max lengths, another pass over every row) only for
/// the record to copy it again.
final class ResultLayout {
    /// How a column's bytes read: integers and floats little-endian of `width` bytes, times
    /// as the protocol's date fields, the rest as they are.
    enum Kind: Equatable {
        case integer(unsigned: Bool, width: Int)
        case real(width: Int)
        /// DATE, DATETIME, TIMESTAMP: a point in time (UTC fields).
        case time
        /// TIME: a signed duration, read as its text (`-838:59:59.000000`), as the server writes it.
        case duration
        case bytes(binary: Bool)
    }

    let kinds: [Kind]
    /// What `locateColumn` writes into: the callback's data.
    let places: UnsafeMutablePointer<ColumnPlaces>

    init(_ fields: UnsafeBufferPointer<MYSQL_FIELD>) {
        kinds = fields.map(Self.kind(of:))
        let columns = UnsafeMutablePointer<ColumnPlace>.allocate(capacity: max(1, fields.count))
        for (index, kind) in kinds.enumerated() {
            let width: Int
            switch kind {
            case .integer(_, let bytes), .real(let bytes): width = bytes
            case .time, .duration, .bytes: width = ColumnPlace.lengthPrefixed
            }
            (columns + index).initialize(to: ColumnPlace(start: nil, length: 0, width: width))
        }
        places = .allocate(capacity: 1)
        places.initialize(to: ColumnPlaces(count: fields.count, columns: columns))
    }

    deinit {
        places.pointee.columns.deallocate()
        places.deallocate()
    }

    /// Whether a result with `fields` reads the same way (a statement's result usually does).
    func matches(_ fields: UnsafeBufferPointer<MYSQL_FIELD>) -> Bool {
        fields.count == kinds.count && zip(fields, kinds).allSatisfy { Self.kind(of: $0) == $1 }
    }

    /// The value of column `index` in the current row: nil for SQL NULL.
    @inline(__always)
    func bytes(_ index: Int) -> UnsafeRawBufferPointer? {
        let place = places.pointee.columns[index]
        guard let start = place.start else { return nil }
        return UnsafeRawBufferPointer(start: start, count: place.length)
    }

    private static func kind(of field: MYSQL_FIELD) -> Kind {
        let unsigned = field.flags & UInt32(UNSIGNED_FLAG) != 0
        switch field.type {
        case MYSQL_TYPE_TINY: return .integer(unsigned: unsigned, width: 1)
        case MYSQL_TYPE_SHORT, MYSQL_TYPE_YEAR: return .integer(unsigned: unsigned, width: 2)
        case MYSQL_TYPE_LONG, MYSQL_TYPE_INT24: return .integer(unsigned: unsigned, width: 4)
        case MYSQL_TYPE_LONGLONG: return .integer(unsigned: unsigned, width: 8)
        case MYSQL_TYPE_FLOAT: return .real(width: 4)
        case MYSQL_TYPE_DOUBLE: return .real(width: 8)
        case MYSQL_TYPE_DATETIME, MYSQL_TYPE_TIMESTAMP, MYSQL_TYPE_DATE: return .time
        case MYSQL_TYPE_TIME: return .duration
        default:
            // charsetnr 63 is `binary`: BLOB/VARBINARY come back as bytes, text as String.
            return .bytes(binary: field.charsetnr == 63 && field.type != MYSQL_TYPE_NEWDECIMAL)
        }
    }
}

/// One column's place in the current row.
struct ColumnPlace {
    /// The value's first byte; nil for SQL NULL.
    var start: UnsafeRawPointer?
    var length: Int
    /// The bytes of a fixed-size value, or `lengthPrefixed`.
    var width: Int

    static let lengthPrefixed = -1
}

/// The callback's data: a result's columns, and where the current row's values begin and
/// end (what a `ReadDigest` hashes).
struct ColumnPlaces {
    let count: Int
    let columns: UnsafeMutablePointer<ColumnPlace>
    /// The first non-NULL value's first byte (its length prefix), right after the row's
    /// NULL bitmap; nil until one is found (reset before each row that is digested).
    var firstValue: UnsafeRawPointer?
    /// Just past the last non-NULL value.
    var end: UnsafeRawPointer?

    init(count: Int, columns: UnsafeMutablePointer<ColumnPlace>) {
        self.count = count
        self.columns = columns
    }

    /// The row as libmariadb stored it, from its NULL bitmap (`(columns + 9) / 8` bytes, the
    /// binary protocol's) to its last value: nil when every column is NULL.
    var storedRow: UnsafeRawBufferPointer? {
        guard let firstValue, let end else { return nil }
        let start = firstValue - (count + 9) / 8
        return UnsafeRawBufferPointer(start: start, count: end - start)
    }
}

/// libmariadb's result callback (`STMT_ATTR_CB_RESULT`), called for each column of each row
/// `mysql_stmt_fetch` reads: records where the column's value is and moves `row` past it.
/// A length-prefixed value's prefix is the protocol's length-encoded integer.
let locateColumn: ps_result_callback = { data, column, row in
    guard let places = data?.assumingMemoryBound(to: ColumnPlaces.self), Int(column) < places.pointee.count else { return }
    let place = places.pointee.columns + Int(column)
    guard let row, var position = row.pointee else {
        place.pointee.start = nil
        return
    }
    if places.pointee.firstValue == nil { places.pointee.firstValue = UnsafeRawPointer(position) }
    var length = place.pointee.width
    if length == ColumnPlace.lengthPrefixed {
        let first = position[0]
        position += 1
        switch first {
        case 0..<251:
            length = Int(first)
        case 252:
            length = Int(position[0]) | Int(position[1]) << 8
            position += 2
        case 253:
            length = Int(position[0]) | Int(position[1]) << 8 | Int(position[2]) << 16
            position += 3
        case 254:
            var wide: UInt64 = 0
            for shift in 0..<8 { wide |= UInt64(position[shift]) << (8 * shift) }
            length = Int(clamping: wide)
            position += 8
        default:  // 251 is NULL in a text row; the binary protocol flags NULL in its bitmap instead
            length = 0
        }
    }
    place.pointee.start = UnsafeRawPointer(position)
    place.pointee.length = length
    row.pointee = position + length
    places.pointee.end = UnsafeRawPointer(position + length)
}

extension UnsafeRawBufferPointer {
    /// A little-endian integer of this buffer's width (1, 2, 4 or 8 bytes).
    func integer(unsigned: Bool) -> Int64? {
        guard let base = baseAddress else { return nil }
        switch count {
        case 1: return unsigned ? Int64(base.load(as: UInt8.self)) : Int64(base.load(as: Int8.self))
        case 2:
            let bits = UInt16(littleEndian: base.loadUnaligned(as: UInt16.self))
            return unsigned ? Int64(bits) : Int64(Int16(bitPattern: bits))
        case 4:
            let bits = UInt32(littleEndian: base.loadUnaligned(as: UInt32.self))
            return unsigned ? Int64(bits) : Int64(Int32(bitPattern: bits))
        case 8:
            let bits = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
            return unsigned ? Int64(clamping: bits) : Int64(bitPattern: bits)
        default: return nil
        }
    }

    /// A FLOAT (4 bytes) or DOUBLE (8 bytes).
    var real: Double? {
        guard let base = baseAddress else { return nil }
        switch count {
        case 4: return Double(Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(as: UInt32.self))))
        case 8: return Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(as: UInt64.self)))
        default: return nil
        }
    }

    /// A DATE/DATETIME/TIMESTAMP's fields: 0, 4 (date), 7 (and time) or 11 bytes (and
    /// microseconds); an all-zero value is sent as none.
    var time: MYSQL_TIME {
        var time = MYSQL_TIME()
        time.time_type = MYSQL_TIMESTAMP_DATETIME
        if count >= 4 {
            time.year = UInt32(UInt16(self[0]) | UInt16(self[1]) << 8)
            time.month = UInt32(self[2])
            time.day = UInt32(self[3])
        }
        if count >= 7 {
            time.hour = UInt32(self[4])
            time.minute = UInt32(self[5])
            time.second = UInt32(self[6])
        }
        if count >= 11 {
            time.second_part = UInt(UInt32(self[7]) | UInt32(self[8]) << 8 | UInt32(self[9]) << 16 | UInt32(self[10]) << 24)
        }
        return time
    }

    /// A TIME's text, `[-]h:mm:ss.ffffff` with hours past 24 when it spans days: 0, 8 or 12
    /// bytes of sign, days, hours, minutes, seconds, microseconds.
    var durationText: String {
        guard count >= 8 else { return "00:00:00" }
        let negative = self[0] != 0
        let days = Int(self[1]) | Int(self[2]) << 8 | Int(self[3]) << 16 | Int(self[4]) << 24
        let hours = days * 24 + Int(self[5])
        func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        var text = (negative ? "-" : "") + twoDigits(hours) + ":" + twoDigits(Int(self[6])) + ":" + twoDigits(Int(self[7]))
        if count >= 12 {
            let micro = Int(self[8]) | Int(self[9]) << 8 | Int(self[10]) << 16 | Int(self[11]) << 24
            let digits = String(micro)
            text += "." + String(repeating: "0", count: Swift.max(0, 6 - digits.count)) + digits
        }
        return text
    }
}
