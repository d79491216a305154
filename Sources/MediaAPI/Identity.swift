import Foundation
import Hashing
import Media

/// Who is asking. The user id comes only from nginx (a FastCGI param set from an
/// auth_request to the host app), a verified HS256 token, or, on the local stack only,
/// the X-User-Id header. Anything else is a 401.
public struct Identity: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// The user id comes from the FastCGI param MEDIA_USER_ID that nginx sets.
        case nginx
        /// An HS256 bearer token verified with MEDIA_JWT_SECRET.
        case jwt
        /// The X-User-Id header: local stack only.
        case dev
    }

    let mode: Mode
    let jwtSecret: [UInt8]

    public init(mode: Mode, jwtSecret: [UInt8]) {
        self.mode = mode
        self.jwtSecret = jwtSecret
    }

    func userId(of request: HTTPRequest) throws -> String {
        let candidate: String?
        switch mode {
        case .nginx: candidate = request.fastCGI.param("MEDIA_USER_ID")
        case .dev: candidate = request.header("X-User-Id")
        case .jwt: candidate = bearerSubject(request.header("Authorization"))
        }
        // User ids become storage path components: the same rule applies to all of them.
        guard let userId = candidate, StorageKey.isSafeComponent(userId) else { throw APIError.unauthorized() }
        return userId
    }

    /// The `sub` of a valid token: HS256 only (the algorithm is pinned, never read from
    /// the token as a choice), signature checked in constant time, `exp` required and in
    /// the future, `nbf` (if present) in the past.
    package func bearerSubject(_ authorization: String?, now: Date = Date()) -> String? {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return nil }
        let parts = authorization.dropFirst(7).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]),
              let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any],
              header["alg"] as? String == "HS256",
              let payload = try? JSONSerialization.jsonObject(with: Data(payloadBytes)) as? [String: Any]
        else { return nil }
        let signed = Array(parts[0].utf8) + [UInt8(ascii: ".")] + Array(parts[1].utf8)
        let expected = HMACSHA256.authenticationCode(key: jwtSecret, message: signed)
        guard HMACSHA256.constantTimeEquals(expected, signature) else { return nil }
        let seconds = now.timeIntervalSince1970
        guard let expiry = (payload["exp"] as? NSNumber)?.doubleValue, expiry > seconds else { return nil }
        if let notBefore = payload["nbf"] {
            guard let value = (notBefore as? NSNumber)?.doubleValue, value <= seconds else { return nil }
        }
        return payload["sub"] as? String
    }
}
