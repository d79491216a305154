#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A FastCGI client straight to the pool's unix socket, for requests nginx would never
/// send (a body without CONTENT_LENGTH, a body shorter than declared).
public struct FastCGIClient: Sendable {
    public let socketPath: String

    public init(socketPath: String) { self.socketPath = socketPath }

    /// Sends one request; returns the CGI response (headers and body) from the STDOUT records.
    /// `halfClose: false` keeps this side open after the request, as nginx does; once the
    /// server has ended the response, `afterResponse` gets the still open socket.
    public func request(params: [String: String], stdin: [UInt8], halfClose: Bool = true,
                        afterResponse: ((Int32) -> Void)? = nil) throws -> HTTPResponseMessage {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(socketPath.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect to \(socketPath) failed: \(errno)") }

        var out: [UInt8] = []
        out += record(type: 1, content: [0, 1, 0, 0, 0, 0, 0, 0])  // BEGIN_REQUEST, responder, no keep-alive
        var encoded: [UInt8] = []
        for (name, value) in params {
            encoded += length(name.utf8.count) + length(value.utf8.count) + Array(name.utf8) + Array(value.utf8)
        }
        out += record(type: 4, content: encoded) + record(type: 4, content: [])
        var offset = 0
        while offset < stdin.count {
            let chunk = Array(stdin[offset..<min(offset + 65535, stdin.count)])
            out += record(type: 5, content: chunk)
            offset += chunk.count
        }
        out += record(type: 5, content: [])
        try writeAll(fd, out)
        // Half-close: a server waiting for more stdin sees the end of the stream.
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = read(fd, &buffer, buffer.count)
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            received.append(contentsOf: buffer[0..<got])
        }
        afterResponse?(fd)
        var stdout: [UInt8] = []
        var index = 0
        while index + 8 <= received.count {
            let type = received[index + 1]
            let contentLength = Int(received[index + 4]) << 8 | Int(received[index + 5])
            let padding = Int(received[index + 6])
            let start = index + 8
            if type == 6 { stdout += received[start..<min(start + contentLength, received.count)] }
            index = start + contentLength + padding
        }
        // A CGI response: "Status: 400 …" instead of an HTTP status line.
        let text = "HTTP/1.1 " + String(decoding: stdout, as: UTF8.self)
            .replacingOccurrences(of: "Status: ", with: "", options: .anchored)
        return try HTTPClient.parse(Array(text.utf8))
    }

    private func record(type: UInt8, content: [UInt8]) -> [UInt8] {
        [1, type, 0, 1, UInt8(content.count >> 8), UInt8(content.count & 0xff), 0, 0] + content
    }

    private func length(_ count: Int) -> [UInt8] {
        count < 128 ? [UInt8(count)]
            : [UInt8((count >> 24) | 0x80), UInt8((count >> 16) & 0xff), UInt8((count >> 8) & 0xff), UInt8(count & 0xff)]
    }
}
