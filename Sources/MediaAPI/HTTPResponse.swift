import Foundation
import ServerLog

/// A response before it is written: status, headers and a body held in memory (API bodies
/// are small; files are served by nginx).
public struct HTTPResponse {
    public var status: Int
    public var headers: [(String, String)]
    public var body: ResponseBody
    /// For a response a worker may keep (see `RenderedResponses`): whether its body was the
    /// kept one or made anew. The request log says which.
    var rendering: Rendering?

    enum Rendering: String {
        case kept, anew
    }

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.init(status: status, headers: headers, body: ResponseBody(body))
    }

    init(status: Int, headers: [(String, String)], body: ResponseBody) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json<T: Encodable>(_ value: T, status: Int = 200) throws -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")],
                     body: Array(try JSONCoding.encoder.encode(value)))
    }

    public static func noContent() -> HTTPResponse { HTTPResponse(status: 204) }

    public static func error(_ error: APIError) -> HTTPResponse {
        var body = Array("{\"error\":{\"code\":".utf8)
        JSONBytes.appendString(error.code, to: &body)
        body += Array(",\"message\":".utf8)
        JSONBytes.appendString(error.message, to: &body)
        for (index, (name, value)) in error.details.enumerated() {
            body += Array((index == 0 ? ",\"details\":{" : ",").utf8)
            JSONBytes.appendString(name, to: &body)
            body.append(UInt8(ascii: ":"))
            switch value {
            case .integer(let number): JSONBytes.appendInteger(number, to: &body)
            case .text(let text): JSONBytes.appendString(text, to: &body)
            }
        }
        body += Array((error.details.isEmpty ? "}}" : "}}}").utf8)
        return HTTPResponse(status: error.status,
                            headers: [("Content-Type", "application/json; charset=utf-8")] + error.headers, body: body)
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 411: return "Length Required"
        case 413: return "Payload Too Large"
        case 415: return "Unsupported Media Type"
        case 422: return "Unprocessable Entity"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "Status"
        }
    }
}

/// A response's body: bytes in an array, or the buffer a JSON document was written into,
/// handed over as it is (a 100-owner batch's megabyte was otherwise copied once more).
public struct ResponseBody {
    private enum Storage {
        case array([UInt8])
        case written(ByteBuffer, count: Int)
    }

    private let storage: Storage

    public init(_ bytes: [UInt8]) { storage = .array(bytes) }

    init(_ buffer: ByteBuffer, count: Int) { storage = .written(buffer, count: count) }

    public var count: Int {
        switch storage {
        case .array(let bytes): bytes.count
        case .written(_, let count): count
        }
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .array(let bytes): return try bytes.withUnsafeBytes(body)
        case .written(let buffer, let count): return try body(UnsafeRawBufferPointer(start: buffer.base, count: count))
        }
    }

    /// A copy of the bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// The same bytes in memory of their own size (a written buffer has room to spare).
    func compacted() -> ResponseBody {
        guard case .written(let buffer, let count) = storage, buffer.capacity > count else { return self }
        let exact = ByteBuffer(capacity: count)
        exact.base.initialize(from: buffer.base, count: count)
        return ResponseBody(exact, count: count)
    }

    /// The memory the body holds (a written buffer's whole capacity).
    var footprint: Int {
        switch storage {
        case .array(let bytes): bytes.capacity
        case .written(let buffer, _): buffer.capacity
        }
    }
}

/// Memory a document is written into, freed with the last reference (the writer's, then
/// the response's).
final class ByteBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    /// Room for at least `capacity` bytes, the first `keeping` of them kept.
    func grow(to capacity: Int, keeping count: Int) {
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        moved.moveInitialize(from: base, count: count)
        base.deallocate()
        (base, self.capacity) = (moved, capacity)
    }
}
