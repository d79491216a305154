#if canImport(Glibc)
import Glibc
#endif
import CFastCGI

/// One FastCGI request: its params, copied into Swift right after accept (libfcgi reuses
/// their storage for the next request), and its body as a stream bounded by CONTENT_LENGTH.
public final class FastCGIRequest {
    public let body: RequestBody
    /// The client's `X-Request-Id` when it is sane, else a new random one.
    public let requestId: String
    /// Every param as nginx sent it, `NAME=value`, one after another; a request reads a
    /// handful of its thirty-odd params, so each becomes a String only when it is asked for
    /// (a dictionary of them all was a sixth of a small request's time).
    private let text: [UInt8]
    /// Where each param's name and value are in `text`, in the order sent.
    private let entries: [(name: Range<Int>, value: Range<Int>)]

    init(raw: UnsafeMutablePointer<FCGX_Request>) {
        var text: [UInt8] = [], entries: [(name: Range<Int>, value: Range<Int>)] = []
        text.reserveCapacity(2048)
        entries.reserveCapacity(40)
        if var entry = raw.pointee.envp {
            while let pair = entry.pointee {
                let bytes = UnsafeRawBufferPointer(start: pair, count: strlen(pair))
                if let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                    let start = text.count
                    text.append(contentsOf: bytes)
                    entries.append((start..<start + equals, start + equals + 1..<text.count))
                }
                entry += 1
            }
        }
        (self.text, self.entries) = (text, entries)
        self.body = RequestBody(stream: raw.pointee.in,
                                declaredLength: Self.value(of: "CONTENT_LENGTH", in: text, entries))
        self.requestId = Self.chooseRequestId(Self.value(of: "HTTP_X_REQUEST_ID", in: text, entries))
    }

    /// For tests and in-process callers: a request with the given params and body bytes.
    public init(params: [String: String], body: RequestBody) {
        var text: [UInt8] = [], entries: [(name: Range<Int>, value: Range<Int>)] = []
        for (name, value) in params.sorted(by: { $0.key < $1.key }) {
            let start = text.count
            text += Array(name.utf8)
            let equals = text.count
            text += Array(value.utf8)
            entries.append((start..<equals, equals..<text.count))
        }
        (self.text, self.entries) = (text, entries)
        self.body = body
        self.requestId = Self.chooseRequestId(Self.value(of: "HTTP_X_REQUEST_ID", in: text, entries))
    }

    /// The value of the param called `name` (the first, when nginx sent it twice: libfcgi's rule).
    public func param(_ name: String) -> String? { Self.value(of: name, in: text, entries) }

    private static func value(of name: String, in text: [UInt8], _ entries: [(name: Range<Int>, value: Range<Int>)]) -> String? {
        var name = name
        return name.withUTF8 { wanted in
            text.withUnsafeBufferPointer { text in
                guard let base = text.baseAddress, let wantedBase = wanted.baseAddress else { return nil }
                for entry in entries where entry.name.count == wanted.count
                    && memcmp(base + entry.name.lowerBound, wantedBase, wanted.count) == 0 {
                    return String(decoding: UnsafeBufferPointer(rebasing: text[entry.value]), as: UTF8.self)
                }
                return nil
            }
        }
    }

    /// Keeps a client's id only if it is 1–64 characters of `[A-Za-z0-9._:-]`, so it can go
    /// into logs and headers unescaped.
    static func chooseRequestId(_ client: String?) -> String {
        if let client, (1...64).contains(client.utf8.count),
           client.unicodeScalars.allSatisfy({ ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || ".-_:".unicodeScalars.contains($0) }) {
            return client
        }
        var random = SystemRandomNumberGenerator()
        return String(random.next() as UInt64, radix: 16).leftPadded(to: 16)
            + String(random.next() as UInt32, radix: 16).leftPadded(to: 8)
    }

    public var method: String { param("REQUEST_METHOD") ?? "GET" }

    /// The request path without the query string, still percent-encoded (REQUEST_URI, not
    /// nginx's decoded $uri, so an encoded `/` inside a segment stays inside it).
    public var path: String {
        let uri = param("REQUEST_URI") ?? param("DOCUMENT_URI") ?? "/"
        if let question = uri.firstIndex(of: "?") { return String(uri[..<question]) }
        return uri
    }

    public var queryString: String { param("QUERY_STRING") ?? "" }

    /// An HTTP request header, by its usual name (`Content-Type`, `X-Request-Id`).
    public func header(_ name: String) -> String? {
        // ASCII upper case, `-` as `_`: the CGI spelling (Foundation's string calls are slow here).
        let upper = String(decoding: name.utf8.map { byte in
            byte == UInt8(ascii: "-") ? UInt8(ascii: "_") : (97...122).contains(byte) ? byte - 32 : byte
        }, as: UTF8.self)
        switch upper {
        case "CONTENT_TYPE", "CONTENT_LENGTH": return param(upper)
        default: return param("HTTP_" + upper)
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
