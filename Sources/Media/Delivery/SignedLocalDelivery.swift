import Foundation
import Hashing

/// Expiring URLs that nginx's `secure_link` module checks (nginx/media-delivery-signed.conf):
/// `?md5=TOKEN&expires=UNIX` where TOKEN = base64url(md5(expires + uri + " " + secret)),
/// unpadded, and `uri` the request path nginx sees (`$uri`). nginx answers 403 to a missing
/// or forged token and 410 to an expired one, and serves nothing under `/uploads/` unsigned.
public struct SignedLocalDelivery: DeliveryAdapter {
    /// The path part of the base URL: what nginx sees as `$uri`, before the key.
    let basePath: String
    /// The base URL and the `/` before a key.
    private let prefix: String
    let secret: String
    public let window: SigningWindow
    let now: @Sendable () -> Date

    public init(baseURL: String, secret: String, window: SigningWindow,
                now: @escaping @Sendable () -> Date = { Date() }) {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.basePath = Self.path(of: base)
        self.prefix = base + "/"
        self.secret = secret
        self.window = window
        self.now = now
    }

    public func url(for key: String, kind: MediaVariantKind) -> DeliveryURL {
        let expires = window.expiry(at: now())
        let token = Self.token(uri: basePath + "/" + key, expires: expires, secret: secret)
        return DeliveryURL(base: prefix, key: key, query: "?md5=" + token + "&expires=" + String(expires))
    }

    public func urlGeneration(at date: Date) -> String? { "signed-\(window.generation(at: date))" }

    /// nginx's `secure_link_md5 "$secure_link_expires$uri $secret"`, encoded as the module
    /// reads it (base64url without padding).
    public static func token(uri: String, expires: Int64, secret: String) -> String {
        Base64URL.encode(MD5.digest(Array((String(expires) + uri + " " + secret).utf8)))
    }

    /// `https://cdn.example/uploads` → `/uploads`; a base that is a path stays as it is.
    static func path(of base: String) -> String {
        guard let scheme = base.range(of: "://") else { return base }
        let afterHost = base[scheme.upperBound...].firstIndex(of: "/")
        return afterHost.map { String(base[$0...]) } ?? ""
    }
}
