import Foundation
import S3

/// Expiring S3 presigned GET URLs straight to the bucket (query-string SigV4). Originals
/// get `response-content-disposition=attachment`, so the bucket serves them as downloads.
public struct PresignedBucketDelivery: DeliveryAdapter {
    let client: S3Client
    public let window: SigningWindow
    let now: @Sendable () -> Date

    public init(client: S3Client, window: SigningWindow, now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.window = window
        self.now = now
    }

    public func url(for key: String, kind: MediaVariantKind) -> DeliveryURL {
        // Signed at the start of the window with a lifetime to the window's expiry: the same
        // URL for every request of that window.
        let date = now()
        let start = window.start(at: date)
        return DeliveryURL(base: client.presignedGetURL(key: key, expiresInSeconds: Int(window.expiry(at: date) - start),
                                                        at: Date(timeIntervalSince1970: Double(start)),
                                                        responseContentDisposition: kind == .original ? "attachment" : nil))
    }

    public func urlGeneration(at date: Date) -> String? { "presigned-\(window.generation(at: date))" }
}
