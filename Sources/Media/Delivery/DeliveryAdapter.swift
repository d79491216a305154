import Foundation

/// Turns storage keys into URLs clients can fetch (Active Storage's URL side).
/// `public`: MEDIA_BASE_URL + key, served by nginx from the local storage root.
public protocol DeliveryAdapter: Sendable {
    func url(for key: String) -> String
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
}
