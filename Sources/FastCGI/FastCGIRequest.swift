#if canImport(Glibc)
import Glibc
#endif
import CFastCGI

/// One FastCGI request: its params, copied into Swift right after accept (libfcgi reuses
/// their storage for the next request), and its body as a stream bounded by CONTENT_LENGTH.
public final class FastCGIRequest {
    public let params: [String: String]
    public let body: RequestBody
    /// The client's `X-Request-Id` when it is sane, else a new random one.
    public let requestId: String

    init(raw: UnsafeMutablePointer<FCGX_Request>) {
        var params: [String: String] = [:]
        if var entry = raw.pointee.envp {
            while let pair = entry.pointee {
                // Split on the bytes: a String's Character search was most of reading params.
                let text = UnsafeRawBufferPointer(start: pair, count: strlen(pair))
                if let equals = text.firstIndex(of: UInt8(ascii: "=")) {
                    let key = String(decoding: UnsafeRawBufferPointer(rebasing: text[..<equals]), as: UTF8.self)
                    // libfcgi answers the first of duplicated params; keep the same rule.
                    if params[key] == nil {
                        params[key] = String(decoding: UnsafeRawBufferPointer(rebasing: text[(equals + 1)...]), as: UTF8.self)
                    }
                }
                entry += 1
            }
        }
        self.params = params
        self.body = RequestBody(stream: raw.pointee.in, declaredLength: params["CONTENT_LENGTH"])
        self.requestId = FastCGIRequest.chooseRequestId(params["HTTP_X_REQUEST_ID"])
    }

    /// For tests and in-process callers: a request with the given params and body bytes.
    public init(params: [String: String], body: RequestBody) {
        self.params = params
        self.body = body
        self.requestId = FastCGIRequest.chooseRequestId(params["HTTP_X_REQUEST_ID"])
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

    public var method: String { params["REQUEST_METHOD"] ?? "GET" }

    /// The request path without the query string, still percent-encoded (REQUEST_URI, not
    /// nginx's decoded $uri, so an encoded `/` inside a segment stays inside it).
    public var path: String {
        let uri = params["REQUEST_URI"] ?? params["DOCUMENT_URI"] ?? "/"
        if let question = uri.firstIndex(of: "?") { return String(uri[..<question]) }
        return uri
    }

    public var queryString: String { params["QUERY_STRING"] ?? "" }

    /// An HTTP request header, by its usual name (`Content-Type`, `X-Request-Id`).
    public func header(_ name: String) -> String? {
        // ASCII upper case, `-` as `_`: the CGI spelling (Foundation's string calls are slow here).
        let upper = String(decoding: name.utf8.map { byte in
            byte == UInt8(ascii: "-") ? UInt8(ascii: "_") : (97...122).contains(byte) ? byte - 32 : byte
        }, as: UTF8.self)
        switch upper {
        case "CONTENT_TYPE", "CONTENT_LENGTH": return params[upper]
        default: return params["HTTP_" + upper]
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
