import Foundation

/// Turns storage keys into URLs clients can fetch (Active Storage's URL side):
/// `PublicDelivery` (base URL + key), `SignedLocalDelivery` (nginx `secure_link`) and
/// `PresignedBucketDelivery` (S3 presigned GET).
public protocol DeliveryAdapter: Sendable {
    /// The URL of the object at `key`, a variant of `kind` (originals may be delivered as downloads).
    func url(for key: String, kind: MediaVariantKind) -> DeliveryURL

    /// Changes whenever the URLs made from the same keys change (a signed URL's next expiry
    /// window); nil when they never do. Every response validator includes it, so a client's
    /// revalidated copy never holds URLs that have expired.
    func urlGeneration(at date: Date) -> String?
}

/// A URL as its parts, in order: the base (one String every URL shares), the storage key
/// (the variant's own String) and what follows it (a signature's query, or nothing).
/// Responses write the parts one after another: a library page holds a few hundred URLs,
/// and joining each into a String of its own was most of what presenting a page cost.
public struct DeliveryURL: Sendable, Equatable, CustomStringConvertible {
    public let base: String
    public let key: String
    public let query: String

    public init(base: String, key: String = "", query: String = "") {
        self.base = base
        self.key = key
        self.query = query
    }

    /// The whole URL.
    public var description: String { base + key + query }
}

public struct PublicDelivery: DeliveryAdapter {
    /// The base URL and the `/` before a key: the first part of every URL.
    private let prefix: String

    public init(baseURL: String) {
        self.prefix = baseURL.hasSuffix("/") ? baseURL : baseURL + "/"
    }

    public func url(for key: String, kind: MediaVariantKind) -> DeliveryURL {
        // Keys are made of URL-safe characters (see StorageKey), so no escaping is needed.
        DeliveryURL(base: prefix, key: key)
    }

    public func urlGeneration(at date: Date) -> String? { nil }
}

/// When signed URLs expire. Expiry is rounded up to a window of a quarter of the time to
/// live, so that every URL of one object is the same for that long: responses can be
/// revalidated (304) and a CDN caches one URL, not one per request. A URL is valid for
/// between `ttl` and `ttl + window` seconds after it is made.
public struct SigningWindow: Sendable {
    public let ttlSeconds: Int64
    public var windowSeconds: Int64 { max(1, ttlSeconds / 4) }

    public init(ttlSeconds: Int64) {
        self.ttlSeconds = max(1, ttlSeconds)
    }

    /// The window `date` falls in.
    public func generation(at date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / Double(windowSeconds)).rounded(.down))
    }

    /// Unix time at which the window `date` falls in began.
    public func start(at date: Date) -> Int64 { generation(at: date) * windowSeconds }

    /// Unix time at which URLs made at `date` expire.
    public func expiry(at date: Date) -> Int64 { start(at: date) + windowSeconds + ttlSeconds }
}
