import Foundation
import ServerLog

/// Builds a JSON document straight into bytes. The API's representations (assets,
/// attachments, jobs) write themselves with it: Foundation's JSONEncoder on Linux cost
/// about as much per asset as reading it from the database.
struct JSONWriter: ~Copyable {
    /// The document so far: `count` bytes of `capacity` at `base`, the memory of `buffer`
    /// (no Array uniqueness check per byte appended; the response takes the buffer whole).
    private let buffer: ByteBuffer
    private var base: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int
    /// One bit per open object or array, innermost lowest: whether a value was written in
    /// it (a comma goes before the next). The API's documents nest a few levels deep.
    private var written: UInt64 = 0
    private var depth = 0
    /// A key was just written: its value takes no comma.
    private var afterKey = false
    /// Where values written with `value(_:memoizedAs:)` are in the document.
    private var memoized: [String: Range<Int>] = [:]

    /// `capacity`: the bytes the document is expected to take, so that a large one is not
    /// grown (and copied) on the way; more is still allowed.
    init(capacity: Int = 16_384) {
        buffer = ByteBuffer(capacity: max(64, capacity))
        (base, self.capacity) = (buffer.base, buffer.capacity)
    }

    /// The document as a response body, without a copy.
    consuming func body() -> ResponseBody { ResponseBody(buffer, count: count) }

    mutating func object(_ body: (inout JSONWriter) throws -> Void) rethrows {
        open(UInt8(ascii: "{"))
        try body(&self)
        close(UInt8(ascii: "}"))
    }

    mutating func array<S: Sequence>(_ items: S, _ body: (inout JSONWriter, S.Element) throws -> Void) rethrows {
        open(UInt8(ascii: "["))
        for item in items { try body(&self, item) }
        close(UInt8(ascii: "]"))
    }

    /// A key the code spells: copied as it is, quoted, without escaping (it is ASCII
    /// without quotes or backslashes). Inlined, as `put` and `separate` are: a library
    /// page writes about two thousand.
    @inline(__always)
    mutating func key(_ name: StaticString) {
        separate()
        let length = name.utf8CodeUnitCount
        reserve(length + 3)
        base[count] = UInt8(ascii: "\"")
        let destination = base + count + 1
        name.withUTF8Buffer { if let source = $0.baseAddress { JSONBytes.copyBytes(source, count: length, to: destination) } }
        base[count + 1 + length] = UInt8(ascii: "\"")
        base[count + 2 + length] = UInt8(ascii: ":")
        count += length + 3
        afterKey = true
    }

    /// A key from data (an owner id): escaped like any string.
    mutating func key(escaping name: String) {
        separate()
        appendString(name)
        put(UInt8(ascii: ":"))
        afterKey = true
    }

    mutating func string(_ text: String?) {
        separate()
        if let text { appendString(text) } else { appendRaw("null") }
    }

    /// One string literal of parts written one after another (a URL's base, key and query),
    /// without joining them into a String first.
    mutating func string(joining first: String, _ second: String, _ third: String) {
        separate()
        put(UInt8(ascii: "\""))
        appendString(first, quoted: false)
        appendString(second, quoted: false)
        if !third.isEmpty { appendString(third, quoted: false) }
        put(UInt8(ascii: "\""))
    }

    mutating func number(_ value: Int?) {
        number(value.map(Int64.init))
    }

    mutating func number(_ value: Int64?) {
        separate()
        guard let value else { return appendRaw("null") }
        reserve(JSONBytes.maximumIntegerLength())
        count += JSONBytes.writeInteger(value, to: base + count)
    }

    mutating func number(_ value: Double?) {
        separate()
        appendRaw(value.map { $0.isFinite ? String($0) : "null" } ?? "null")
    }

    mutating func bool(_ value: Bool) {
        separate()
        appendRaw(value ? "true" : "false")
    }

    /// ISO-8601 UTC with milliseconds, as everywhere in the API.
    mutating func date(_ value: Date?) {
        separate()
        guard let value else { return appendRaw("null") }
        reserve(JSONBytes.maximumTimestampLength + 2)
        base[count] = UInt8(ascii: "\"")
        count += 1 + JSONBytes.writeTimestamp(value, to: base + count + 1)
        base[count] = UInt8(ascii: "\"")
        count += 1
    }
    /// JSON text from a JSON column, written as the value itself (MariaDB validates it).
    mutating func json(_ value: String?) {
        separate()
        appendRaw(value ?? "null")
    }

    mutating func value(_ item: some JSONWritable) {
        separate()
        afterKey = true  // the item opens its own object without another comma
        item.write(to: &self)
    }

    /// A value that may repeat within the document (one asset attached to many owners of a
    /// batch): written once, then its bytes copied wherever `key` comes again.
    mutating func value(_ item: some JSONWritable, memoizedAs key: String) {
        guard let range = memoized[key] else {
            separate()
            afterKey = true
            let start = count
            item.write(to: &self)
            memoized[key] = start..<count
            return
        }
        separate()
        reserve(range.count)
        (base + count).update(from: base + range.lowerBound, count: range.count)
        count += range.count
    }

    mutating func value(_ item: (some JSONWritable)?) {
        if let item { value(item) } else { string(nil) }
    }

    // MARK: -

    private mutating func open(_ bracket: UInt8) {
        separate()
        put(bracket)
        precondition(depth < 64, "JSON nested deeper than JSONWriter tracks")
        depth += 1
        written <<= 1
    }

    private mutating func close(_ bracket: UInt8) {
        put(bracket)
        depth -= 1
        written >>= 1
    }

    @inline(__always)
    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard depth > 0 else { return }
        if written & 1 != 0 { put(UInt8(ascii: ",")) }
        written |= 1
    }

    private mutating func appendRaw(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            reserve(utf8.count)
            if let source = utf8.baseAddress { JSONBytes.copyBytes(source, count: utf8.count, to: base + count) }
            count += utf8.count
        }
    }

    /// `text` escaped: a whole string literal, or (`quoted: false`) one part of one.
    private mutating func appendString(_ text: String, quoted: Bool = true) {
        // A String's own bytes, without the copy (and retain) a mutable `withUTF8` needs.
        let written = text.utf8.withContiguousStorageIfAvailable { utf8 in
            append(utf8, quoted: quoted)
        }
        if written == nil {
            var text = text
            text.withUTF8 { append($0, quoted: quoted) }
        }
    }

    @inline(__always)
    private mutating func append(_ utf8: UnsafeBufferPointer<UInt8>, quoted: Bool) {
        reserve(JSONBytes.maximumStringLength(utf8.count))
        count += quoted ? JSONBytes.writeString(utf8, to: base + count) : JSONBytes.writeEscaped(utf8, to: base + count)
    }

    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    /// Room for `more` bytes after the document: doubled when it runs out. Inlined, as
    /// `put` and `separate` are (they run thousands of times a page); growth is out of line.
    @inline(__always)
    private mutating func reserve(_ more: Int) {
        if count + more > capacity { grow(toFit: more) }
    }

    @inline(never)
    private mutating func grow(toFit more: Int) {
        buffer.grow(to: max(capacity * 2, count + more), keeping: count)
        (base, capacity) = (buffer.base, buffer.capacity)
    }
}

/// A value the API writes as JSON with `JSONWriter`.
protocol JSONWritable {
    func write(to json: inout JSONWriter)
    /// About how many bytes `write` produces (what the writer reserves up front).
    var estimatedByteCount: Int { get }
}

extension JSONWritable {
    var estimatedByteCount: Int { 512 }
}

extension HTTPResponse {
    static func json(_ value: some JSONWritable, status: Int = 200) -> HTTPResponse {
        var writer = JSONWriter(capacity: max(16_384, value.estimatedByteCount))
        value.write(to: &writer)
        return .json(writer.body(), status: status)
    }

    /// A JSON body written before.
    static func json(_ body: ResponseBody, status: Int = 200, rendering: Rendering? = nil) -> HTTPResponse {
        var response = HTTPResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")], body: body)
        response.rendering = rendering
        return response
    }
}

/// `[item, …]` of writable items.
extension Array: JSONWritable where Element: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.array(self) { json, item in json.value(item) }
    }

    var estimatedByteCount: Int { reduce(2) { $0 + $1.estimatedByteCount } }
}
