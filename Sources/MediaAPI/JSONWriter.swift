import Foundation
import ServerLog

/// Builds a JSON document straight into bytes. The API's representations (assets,
/// attachments, jobs) write themselves with it: Foundation's JSONEncoder on Linux cost
/// about as much per asset as reading it from the database.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// Per open object or array: whether a value was written (a comma goes before the next).
    private var written: [Bool] = []
    /// A key was just written: its value takes no comma.
    private var afterKey = false

    init() { bytes.reserveCapacity(4096) }

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

    mutating func key(_ name: String) {
        separate()
        appendString(name)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    mutating func string(_ text: String?) {
        separate()
        if let text { appendString(text) } else { appendRaw("null") }
    }

    mutating func number(_ value: Int?) {
        number(value.map(Int64.init))
    }

    mutating func number(_ value: Int64?) {
        separate()
        guard let value else { return appendRaw("null") }
        // Digits straight into the bytes: String(Int) on this path was a measurable share.
        JSONBytes.appendInteger(value, to: &bytes)
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
        bytes.append(UInt8(ascii: "\""))
        JSONBytes.appendTimestamp(value, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
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

    mutating func value(_ item: (some JSONWritable)?) {
        if let item { value(item) } else { string(nil) }
    }

    // MARK: -

    private mutating func open(_ bracket: UInt8) {
        separate()
        bytes.append(bracket)
        written.append(false)
    }

    private mutating func close(_ bracket: UInt8) {
        bytes.append(bracket)
        written.removeLast()
    }

    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard let last = written.last else { return }
        if last { bytes.append(UInt8(ascii: ",")) }
        written[written.count - 1] = true
    }

    private mutating func appendRaw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    private mutating func appendString(_ text: String) {
        JSONBytes.appendString(text, to: &bytes)
    }
}

/// A value the API writes as JSON with `JSONWriter`.
protocol JSONWritable {
    func write(to json: inout JSONWriter)
}

extension HTTPResponse {
    static func json(_ value: some JSONWritable, status: Int = 200) -> HTTPResponse {
        var writer = JSONWriter()
        value.write(to: &writer)
        return HTTPResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")],
                            body: writer.bytes)
    }
}

/// `[item, …]` of writable items.
extension Array: JSONWritable where Element: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.array(self) { json, item in json.value(item) }
    }
}
