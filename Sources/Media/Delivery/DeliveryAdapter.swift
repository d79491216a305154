import Foundation

/// Turns storage keys into URLs clients can fetch (Active Storage's URL side):
/// `PublicDelivery` (base URL + key), `SignedLocalDelivery` (nginx `secure_link`) and
/// `PresignedBucketDelivery` (S3 presigned GET).
public protocol DeliveryAdapter: Sendable {
    /// The URL of the object at `key`, a variant of `kind` (originals may be delivered as downloads).
    func url(for key: String, kind: MediaVariantKind) -> String

    /// Changes whenever the URLs made from the same keys change (a signed URL's next expiry
    /// window); nil when they never do. Every response validator includes it, so a client's
    /// revalidated copy never holds URLs that have expired.
    func urlGeneration(at date: Date) -> String?
}

public struct PublicDelivery: DeliveryAdapter {
    public let baseURL: String

    public init(baseURL: String) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    public func url(for key: String, kind: MediaVariantKind) -> String {
        // Keys are made of URL-safe characters (see StorageKey), so no escaping is needed.
        // One String built in place: `+` made two per URL, a page makes a few hundred.
        var base = baseURL, key = key
        return base.withUTF8 { base in
            key.withUTF8 { key in
                String(unsafeUninitializedCapacity: base.count + 1 + key.count) { buffer in
                    _ = buffer.initialize(fromContentsOf: base)
                    buffer[base.count] = UInt8(ascii: "/")
                    _ = buffer[(base.count + 1)...].initialize(fromContentsOf: key)
                    return base.count + 1 + key.count
                }
            }
        }
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
