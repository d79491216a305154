import CFastCGI

public enum ResponseWriterError: Error {
    /// The client (or nginx) closed the connection; nothing more can be sent.
    case clientGone
    case headersAlreadySent
}

/// Writes a CGI-style response (Status and headers, blank line, body) to the FastCGI
/// stdout stream, checking every write: a failed write means the client went away.
public final class ResponseWriter {
    private let stream: UnsafeMutablePointer<FCGX_Stream>?
    private let collect: Bool
    public private(set) var headersSent = false
    public private(set) var status = 0
    public private(set) var bodyBytes = 0
    /// When writing in memory (tests), what was written.
    public private(set) var collected: [UInt8] = []

    init(stream: UnsafeMutablePointer<FCGX_Stream>?) {
        self.stream = stream
        self.collect = false
    }

    /// A writer that keeps the response in memory, for tests and in-process callers.
    public init() {
        self.stream = nil
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
        media_fcgi_mark_response_started()
        headersSent = true
        self.status = status
        try put(Array(head.utf8))
    }

    public func write(_ bytes: [UInt8]) throws {
        try put(bytes)
        bodyBytes += bytes.count
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        try putRaw(base, bytes.count)
        bodyBytes += bytes.count
    }

    /// Pushes buffered output to nginx (for streaming responses).
    public func flush() throws {
        guard let stream else { return }
        if FCGX_FFlush(stream) < 0 { throw ResponseWriterError.clientGone }
    }

    private func put(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return }
            try putRaw(base, raw.count)
        }
    }

    private func putRaw(_ base: UnsafeRawPointer, _ count: Int) throws {
        if collect {
            collected.append(contentsOf: UnsafeRawBufferPointer(start: base, count: count))
            return
        }
        guard let stream else { throw ResponseWriterError.clientGone }
        var offset = 0
        while offset < count {
            let chunk = min(count - offset, Int(Int32.max))
            let written = FCGX_PutStr((base + offset).assumingMemoryBound(to: CChar.self), Int32(chunk), stream)
            if written < 0 { throw ResponseWriterError.clientGone }
            offset += Int(written)
        }
    }
}
