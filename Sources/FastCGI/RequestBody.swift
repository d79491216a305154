import CFastCGI

public enum RequestBodyError: Error, Equatable {
    /// A body arrived without a CONTENT_LENGTH param.
    case lengthRequired
    /// CONTENT_LENGTH is not a non-negative integer.
    case invalidLength(String)
    /// The stream ended before CONTENT_LENGTH bytes.
    case truncated(expected: Int, received: Int)
    /// More bytes than the caller accepts.
    case tooLarge(limit: Int)
}

/// The request body as a stream. It never reads past CONTENT_LENGTH and reports a body
/// that ends early, so callers can tell a complete upload from a cut one.
public final class RequestBody {
    private enum Source {
        case stream(UnsafeMutablePointer<FCGX_Stream>?)
        case bytes([UInt8], offset: Int)
    }

    private var source: Source
    private let declared: String?
    public private(set) var bytesRead = 0

    init(stream: UnsafeMutablePointer<FCGX_Stream>?, declaredLength: String?) {
        self.source = .stream(stream)
        self.declared = declaredLength
    }

    public init(bytes: [UInt8]) {
        self.source = .bytes(bytes, offset: 0)
        self.declared = String(bytes.count)
    }

    /// CONTENT_LENGTH, validated. A missing length is 0 unless bytes are waiting, which
    /// is a malformed request (nginx always sends the length of a buffered body).
    public func contentLength() throws -> Int {
        guard let declared, !declared.isEmpty else {
            var probe: UInt8 = 0
            if rawRead(&probe, 1) > 0 { throw RequestBodyError.lengthRequired }
            return 0
        }
        guard let length = Int(declared), length >= 0 else {
            throw RequestBodyError.invalidLength(declared)
        }
        return length
    }

    /// Reads up to `buffer.count` bytes; 0 at the end of the declared body.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let remaining = try contentLength() - bytesRead
        guard remaining > 0, buffer.count > 0 else { return 0 }
        let wanted = min(remaining, buffer.count)
        let got = rawRead(buffer.baseAddress!, wanted)
        bytesRead += got
        if got < wanted {
            throw RequestBodyError.truncated(expected: try contentLength(), received: bytesRead)
        }
        return got
    }

    /// The whole body, refusing more than `limit` bytes.
    public func readAll(limit: Int) throws -> [UInt8] {
        let length = try contentLength()
        guard length <= limit else { throw RequestBodyError.tooLarge(limit: limit) }
        var bytes = [UInt8](repeating: 0, count: length - bytesRead)
        var filled = 0
        while filled < bytes.count {
            let got = try bytes.withUnsafeMutableBytes { raw in
                try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
            }
            if got == 0 { break }
            filled += got
        }
        return bytes
    }

    /// Reads and drops what is left, so a response can be sent on a clean connection.
    public func discardRemaining() {
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        while (try? scratch.withUnsafeMutableBytes { try read(into: $0) }) ?? 0 > 0 {}
    }

    private func rawRead(_ pointer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        switch source {
        case .stream(let stream):
            guard let stream else { return 0 }
            let got = FCGX_GetStr(pointer.assumingMemoryBound(to: CChar.self), Int32(count), stream)
            return max(0, Int(got))
        case .bytes(let bytes, let offset):
            let n = min(count, bytes.count - offset)
            guard n > 0 else { return 0 }
            bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
            source = .bytes(bytes, offset: offset + n)
            return n
        }
    }
}
