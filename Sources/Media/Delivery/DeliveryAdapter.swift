import Foundation

/// Turns storage keys into URLs clients can fetch (Active Storage's URL side).
/// `public`/`local`: MEDIA_BASE_URL + key, served by nginx (local) or a CDN (r2).
public protocol DeliveryAdapter: Sendable {
    func url(for key: String) -> String
    /// A URL that stops working after `expiresIn` seconds; adapters without signing
    /// return the public URL.
    func signedURL(for key: String, expiresIn: Int) -> String
}

public struct PublicDelivery: DeliveryAdapter {
    public let baseURL: String

    public init(baseURL: String) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    public func url(for key: String) -> String {
        // Keys are made of URL-safe characters (see StorageKey), so no escaping is needed.
        baseURL + "/" + key
    }

    public func signedURL(for key: String, expiresIn: Int) -> String { url(for: key) }
}
