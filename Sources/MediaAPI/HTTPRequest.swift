import FastCGI
import Foundation
import Media

/// What a route handler sees: method, decoded path parameters, query, headers, body.
public final class HTTPRequest {
    public let fastCGI: FastCGIRequest
    public let method: String
    public let path: String
    public internal(set) var pathParameters: [String: String] = [:]
    public let query: [String: [String]]

    public init(_ fastCGI: FastCGIRequest) {
        self.fastCGI = fastCGI
        self.method = fastCGI.method.uppercased()
        self.path = fastCGI.path
        self.query = HTTPRequest.parseQuery(fastCGI.queryString)
    }

    public var id: String { fastCGI.requestId }
    public var body: RequestBody { fastCGI.body }
    public func header(_ name: String) -> String? { fastCGI.header(name) }

    /// A path parameter the route declared (`:id`).
    public func parameter(_ name: String) -> String { pathParameters[name] ?? "" }

    /// The first value of a query parameter.
    public func queryValue(_ name: String) -> String? { query[name]?.first }

    /// A small JSON object body (at most `limit` bytes), as a 400 when it is not one.
    public func jsonBody(limit: Int = 64 * 1024) throws -> JSONBody {
        let bytes: [UInt8]
        do {
            bytes = try body.readAll(limit: limit)
        } catch RequestBodyError.tooLarge {
            throw APIError.payloadTooLarge(limit: limit)
        }
        return try JSONBody(parsing: bytes)
    }

    package static func parseQuery(_ text: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for pair in text.split(ascii: "&") {
            let parts = pair.split(ascii: "=", maxSplits: 1, omittingEmptySubsequences: false)
            // A malformed escape is kept as the client sent it.
            let decode = { (s: Substring) in PercentDecoding.decode(s, plusIsSpace: true) ?? String(s) }
            let key = decode(parts[0])
            let value = parts.count > 1 ? decode(parts[1]) : ""
            result[key, default: []].append(value)
        }
        return result
    }
}

/// A JSON object body, two ways: as a dictionary where a key's presence matters (PATCH:
/// absent leaves a field alone, null clears it) and decoded into typed fields.
public struct JSONBody {
    public let object: [String: Any]
    let bytes: [UInt8]

    /// A 400 unless `bytes` is one JSON object.
    package init(parsing bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { throw APIError.badRequest("A JSON body is required.", code: "invalid_json") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw APIError.badRequest("The body must be a JSON object.", code: "invalid_json")
        }
        self.object = object
        self.bytes = bytes
    }

    /// The fields decoded as `T`, as a 400 naming the field when a value has the wrong type.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONCoding.decoder.decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw APIError.badRequest(describe(error), code: "invalid_json")
        }
    }

    /// Refuses any field not in `accepted`.
    public func requireOnly(_ accepted: [String]) throws {
        if let unknown = object.keys.sorted().first(where: { !accepted.contains($0) }) {
            throw APIError.badRequest("Unknown field `\(unknown)`; accepted: \(accepted.joined(separator: ", ")).",
                                      code: "unknown_field")
        }
    }
}

private func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let names = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
        return names.isEmpty ? "the body" : "`\(names.joined(separator: "."))`"
    }
    switch error {
    case .typeMismatch(_, let context): return "\(path(context)) has the wrong type."
    case .valueNotFound(_, let context): return "\(path(context)) must not be null."
    case .keyNotFound(let key, _): return "`\(key.stringValue)` is required."
    case .dataCorrupted(let context):
        return context.codingPath.isEmpty ? "The body is not valid JSON." : "\(path(context)) is invalid: \(context.debugDescription)"
    @unknown default: return "The body is not valid JSON."
    }
}

extension HTTPRequest {
    /// `limit` from the query: `fallback` when absent, a 400 outside 1...`maximum`.
    package func pageLimit(fallback: Int, maximum: Int) throws -> Int {
        guard let text = queryValue("limit") else { return fallback }
        guard let limit = Int(text), (1...maximum).contains(limit) else {
            throw APIError.badRequest("`limit` is a number from 1 to \(maximum).", code: "invalid_limit")
        }
        return limit
    }

    /// `cursor` from the query: nil when absent, a 400 when it is not one this service issued.
    package func pageCursor() throws -> LibraryCursor? {
        guard let token = queryValue("cursor"), !token.isEmpty else { return nil }
        guard let cursor = LibraryCursor(token: token) else {
            throw APIError.badRequest("`cursor` is not a cursor this service issued.", code: "invalid_cursor")
        }
        return cursor
    }

    /// A query or path value that must be one of an enum's cases; a 400 naming them otherwise.
    package static func enumValue<T: RawRepresentable & CaseIterable>(_ text: String, _ name: String, code: String) throws -> T
    where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            throw APIError.badRequest("Unknown \(name) `\(text)`; one of: "
                                      + T.allCases.map(\.rawValue).joined(separator: ", ") + ".", code: code)
        }
        return value
    }
}
