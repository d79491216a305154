import Foundation
import Hashing

/// AWS Signature Version 4, as S3 wants it: the path is URI-encoded once per segment and
/// never normalised. Pure: the date is a parameter, nothing is read from the clock.
public struct SigV4Signer: Sendable {
    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public let accessKeyId: String
    public let secretAccessKey: String
    public let region: String
    public let service: String

    public init(accessKeyId: String, secretAccessKey: String, region: String, service: String = "s3") {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.service = service
    }

    /// A request as signed: `path` and `query` not yet percent-encoded (the signer encodes
    /// them), `headers` exactly those to sign, host included.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: [(name: String, value: String)]
        public var headers: [(name: String, value: String)]

        public init(method: String, path: String, query: [(name: String, value: String)] = [],
                    headers: [(name: String, value: String)]) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
        }
    }

    /// Every intermediate step, so each can be checked against the AWS test suite.
    public struct Signature: Sendable {
        public let canonicalRequest: String
        public let stringToSign: String
        public let signature: String
        /// Header signing: the headers to add to the request (x-amz-date, x-amz-content-sha256
        /// when asked for, Authorization). Query signing: empty.
        public let addedHeaders: [(name: String, value: String)]
        /// The encoded query string to send (query signing: with the X-Amz-* parameters and
        /// the signature).
        public let queryString: String
    }

    /// Header signing. `payloadHash` is the hex SHA-256 of the body (or UNSIGNED-PAYLOAD);
    /// `sendPayloadHash` adds it as x-amz-content-sha256, which S3 requires.
    public func sign(_ request: Request, payloadHash: String, sendPayloadHash: Bool, at date: Date) -> Signature {
        let timestamp = Self.timestamp(date)
        var added: [(name: String, value: String)] = [("x-amz-date", timestamp)]
        if sendPayloadHash { added.append(("x-amz-content-sha256", payloadHash)) }
        var signed = request
        signed.headers += added
        let headers = Self.canonicalHeaders(signed.headers)
        let canonical = canonicalRequest(signed, canonicalHeaders: headers, payloadHash: payloadHash)
        let toSign = stringToSign(canonicalRequest: canonical, timestamp: timestamp)
        let signature = self.signature(stringToSign: toSign, day: String(timestamp.prefix(8)))
        let authorization = "\(Self.algorithm) Credential=\(accessKeyId)/\(scope(day: String(timestamp.prefix(8)))), "
            + "SignedHeaders=\(headers.names), Signature=\(signature)"
        return Signature(canonicalRequest: canonical, stringToSign: toSign, signature: signature,
                         addedHeaders: added + [("Authorization", authorization)],
                         queryString: Self.canonicalQuery(request.query))
    }

    /// Query-string signing (presigned URLs): X-Amz-Expires is `expiresInSeconds`.
    public func presign(_ request: Request, expiresInSeconds: Int, payloadHash: String, at date: Date) -> Signature {
        let timestamp = Self.timestamp(date)
        let day = String(timestamp.prefix(8))
        let headers = Self.canonicalHeaders(request.headers)
        var signed = request
        signed.query += [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", "\(accessKeyId)/\(scope(day: day))"),
            ("X-Amz-Date", timestamp),
            ("X-Amz-Expires", String(expiresInSeconds)),
            ("X-Amz-SignedHeaders", headers.names),
        ]
        let canonical = canonicalRequest(signed, canonicalHeaders: headers, payloadHash: payloadHash)
        let toSign = stringToSign(canonicalRequest: canonical, timestamp: timestamp)
        let signature = self.signature(stringToSign: toSign, day: day)
        return Signature(canonicalRequest: canonical, stringToSign: toSign, signature: signature, addedHeaders: [],
                         queryString: Self.canonicalQuery(signed.query) + "&X-Amz-Signature=" + signature)
    }

    func canonicalRequest(_ request: Request, canonicalHeaders: (block: String, names: String),
                          payloadHash: String) -> String {
        [request.method, Self.encodePath(request.path), Self.canonicalQuery(request.query),
         canonicalHeaders.block, canonicalHeaders.names, payloadHash].joined(separator: "\n")
    }

    func stringToSign(canonicalRequest: String, timestamp: String) -> String {
        [Self.algorithm, timestamp, scope(day: String(timestamp.prefix(8))), SHA256.hex(Array(canonicalRequest.utf8))]
            .joined(separator: "\n")
    }

    func signature(stringToSign: String, day: String) -> String {
        var key = Array("AWS4\(secretAccessKey)".utf8)
        for part in [day, region, service, "aws4_request"] {
            key = HMACSHA256.authenticationCode(key: key, message: Array(part.utf8))
        }
        return Self.hex(HMACSHA256.authenticationCode(key: key, message: Array(stringToSign.utf8)))
    }

    private func scope(day: String) -> String { "\(day)/\(region)/\(service)/aws4_request" }

    /// Names lowercased; values trimmed with inner runs of whitespace collapsed; the values
    /// of a repeated header joined with "," in the order given; sorted by name.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (block: String, names: String) {
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let collapsed = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
                .joined(separator: " ")
            values[name.lowercased(), default: []].append(collapsed)
        }
        let names = values.keys.sorted()
        let block = names.map { "\($0):\(values[$0, default: []].joined(separator: ","))\n" }.joined()
        return (block, names.joined(separator: ";"))
    }

    /// Names and values encoded, sorted by name then value (on the encoded bytes).
    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (encode($0.name), encode($0.value)) }
            .sorted { $0.0 != $1.0 ? $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) : $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Each segment encoded, "/" kept: S3's rule (no dot-segment removal, no double encoding).
    static func encodePath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }.joined(separator: "/")
    }

    /// RFC 3986 unreserved characters kept, every other byte as %XX (uppercase).
    static func encode(_ text: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), upperHexDigits[Int(byte >> 4)], upperHexDigits[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// yyyyMMdd'T'HHmmss'Z' in UTC.
    static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { let value = value ?? 0; return value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.year ?? 1970)\(two(parts.month))\(two(parts.day))T\(two(parts.hour))\(two(parts.minute))\(two(parts.second))Z"
    }

    static func hex(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.flatMap { [lowerHexDigits[Int($0 >> 4)], lowerHexDigits[Int($0 & 0x0F)]] }, as: UTF8.self)
    }
}

private let upperHexDigits = Array("0123456789ABCDEF".utf8)
private let lowerHexDigits = Array("0123456789abcdef".utf8)
