import CFastCGI

public enum ResponseWriterError: Error {
    /// The client (or nginx) closed the connection; nothing more can be sent.
    case clientGone
    case headersAlreadySent
}

/// Writes a CGI-style response (Status and headers, blank line, body) to the FastCGI
/// stdout, checking every write: a failed write means the client went away. The head is
/// held until the body (or `complete()`), so that both leave in one writev of large
/// records (`media_fcgi_write_stdout`).
public final class ResponseWriter {
    private let request: UnsafeMutablePointer<FCGX_Request>?
    private let collect: Bool
    public private(set) var headersSent = false
    public private(set) var status = 0
    public private(set) var bodyBytes = 0
    /// When writing in memory (tests), what was written.
    public private(set) var collected: [UInt8] = []
    /// The head, made but not sent yet.
    private var pendingHead: [UInt8]?

    init(request: UnsafeMutablePointer<FCGX_Request>) {
        self.request = request
        self.collect = false
    }

    /// A writer that keeps the response in memory, for tests and in-process callers.
    public init() {
        self.request = nil
        self.collect = true
    }

    public func writeHead(status: Int, reason: String, headers: [(String, String)]) throws {
        guard !headersSent else { throw ResponseWriterError.headersAlreadySent }
        var head = "Status: \(status) \(reason)\r\n"
        for (name, value) in headers {
            // Header injection guard: values never carry line breaks.
            let breaks = value.utf8.contains { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }
            let clean = breaks ? String(decoding: value.utf8.map { $0 == 13 || $0 == 10 ? 32 : $0 }, as: UTF8.self) : value
            head += "\(name): \(clean)\r\n"
        }
        head += "\r\n"
        headersSent = true
        self.status = status
        pendingHead = Array(head.utf8)
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try send(bytes)
        bodyBytes += bytes.count
    }

    /// Sends a head that is still held (a response without a body); the worker calls it
    /// after the responder returns.
    public func complete() throws {
        if pendingHead != nil { try send(UnsafeRawBufferPointer(start: nil, count: 0)) }
    }

    private func send(_ body: UnsafeRawBufferPointer) throws {
        let head = pendingHead ?? []
        pendingHead = nil
        if collect {
            collected += head
            collected.append(contentsOf: body)
            return
        }
        guard let request else { throw ResponseWriterError.clientGone }
        let result = head.withUnsafeBytes { head in
            media_fcgi_write_stdout(request, head.baseAddress, head.count, body.baseAddress, body.count)
        }
        if result < 0 { throw ResponseWriterError.clientGone }
    }
}
