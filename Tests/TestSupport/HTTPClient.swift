#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A blocking HTTP/1.1 client over a plain socket, so tests can also send what a browser
/// never would (broken multipart, wrong lengths) and run from many threads at once.
public struct HTTPResponseMessage: Sendable {
    public let status: Int
    public let headers: [String: String]
    public let body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    public func json() -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }

    /// `error.code` of the API's error shape.
    public var errorCode: String? { (json()["error"] as? [String: Any])?["code"] as? String }
}

public struct HTTPClient: Sendable {
    public let port: UInt16
    public var timeoutSeconds: Int = 60

    public init(port: UInt16) { self.port = port }

    public func get(_ path: String, headers: [String: String] = [:]) throws -> HTTPResponseMessage {
        try send(method: "GET", path: path, headers: headers, body: nil)
    }

    public func send(method: String, path: String, headers: [String: String] = [:], body: [UInt8]?) throws -> HTTPResponseMessage {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body, headers.keys.first(where: { $0.lowercased() == "content-length" }) == nil {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        return try exchange(Array(head.utf8) + (body ?? []))
    }

    /// Sends raw bytes and parses whatever comes back.
    public func exchange(_ request: [UInt8]) throws -> HTTPResponseMessage {
        let fd = try connect()
        defer { close(fd) }
        try writeAll(fd, request)
        return try readResponse(fd, request: request)
    }

    /// A connected socket to the server, for a caller that writes the request itself (in
    /// pieces, slowly); the caller closes it.
    public func connect() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw TestFailure("connect to 127.0.0.1:\(port) failed: \(errno)")
        }
        return fd
    }

    /// Reads the answer to `request` (sent on `fd`) up to the server's close, and records it.
    public func readResponse(_ fd: Int32, request: [UInt8]) throws -> HTTPResponseMessage {
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = read(fd, &buffer, buffer.count)
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            response.append(contentsOf: buffer[0..<got])
        }
        let message = try HTTPClient.parse(response)
        ResponseLog.record(request: request, response: message)
        return message
    }

    static func parse(_ bytes: [UInt8]) throws -> HTTPResponseMessage {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = bytes.firstRange(of: separator) else {
            throw TestFailure("no HTTP response (\(bytes.count) bytes)")
        }
        let lines = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw TestFailure("bad status line \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(bytes[end.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
        return HTTPResponseMessage(status: status, headers: headers, body: body)
    }

    static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard let lineEnd = bytes[index...].firstRange(of: [13, 10]) else { break }
            let sizeText = String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";")[0], radix: 16), size > 0 else { break }
            let start = lineEnd.upperBound
            output.append(contentsOf: bytes[start..<min(start + size, bytes.count)])
            index = start + size + 2
        }
        return output
    }
}

/// When MEDIA_TEST_RESPONSE_LOG names a file, every API response (`/api/…`) a test
/// receives is appended to it as one JSON line: scripts/test validates them all against
/// the contract (Tests/Contract/check_recorded_responses.py).
enum ResponseLog {
    static let path: String? = ProcessInfo.processInfo.environment["MEDIA_TEST_RESPONSE_LOG"].flatMap { $0.isEmpty ? nil : $0 }
    static let lock = NSLock()

    static func record(request: [UInt8], response: HTTPResponseMessage) {
        guard let path else { return }
        let lineEnd = request.firstRange(of: [13, 10])?.lowerBound ?? request.endIndex
        let requestLine = String(decoding: request[..<lineEnd], as: UTF8.self).split(separator: " ")
        guard requestLine.count >= 2, requestLine[1].hasPrefix("/api/") else { return }
        var entry: [String: Any] = ["method": String(requestLine[0]), "target": String(requestLine[1]),
                                    "status": response.status, "headers": response.headers]
        if let text = String(validating: response.body, as: UTF8.self) {
            entry["body"] = text
        } else {
            entry["bodyBase64"] = Data(response.body).base64EncodedString()
        }
        guard var line = try? JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys]) else { return }
        line.append(10)
        lock.lock()
        defer { lock.unlock() }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        try? writeAll(fd, Array(line))
    }
}

public func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
        if written < 0 {
            if errno == EINTR { continue }
            throw TestFailure("write failed: \(errno)")
        }
        offset += written
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs `body` on `count` threads at once and returns the results in order.
public func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
    let results = ConcurrentResults<T>()
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            let value = body(index)
            results.lock.lock()
            results.values[index] = value
            results.lock.unlock()
            group.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    group.wait()
    return (0..<count).map { results.values[$0]! }
}

private final class ConcurrentResults<T>: @unchecked Sendable {
    let lock = NSLock()
    var values: [Int: T] = [:]
}
