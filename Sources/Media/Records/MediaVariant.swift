import Foundation
import MariaDB

/// One stored rendition of an asset: the original bytes, or a display variant (table `MediaVariant`).
public struct MediaVariant: Codable, Sendable, Equatable {
    public var id: String
    public var assetId: String
    public var kind: MediaVariantKind
    /// The file format's short name: `webp`, `jpeg`, `mp4`…
    public var format: String
    public var width: Int?
    public var height: Int?
    public var sizeBytes: Int64
    public var storageKey: String
    public var createdAt: Date

    public init(id: String, assetId: String, kind: MediaVariantKind, format: String, width: Int?, height: Int?,
                sizeBytes: Int64, storageKey: String, createdAt: Date) {
        self.id = id
        self.assetId = assetId
        self.kind = kind
        self.format = format
        self.width = width
        self.height = height
        self.sizeBytes = sizeBytes
        self.storageKey = storageKey
        self.createdAt = createdAt
    }

    static let columns = "`id`, `assetId`, `kind`, `format`, `width`, `height`, `sizeBytes`, `storageKey`, `createdAt`"

    init(row: Row) throws {
        id = try row.get("id")
        assetId = try row.get("assetId")
        kind = try row.enumValue("kind")
        format = try row.get("format")
        width = try row.get("width")
        height = try row.get("height")
        sizeBytes = try row.get("sizeBytes")
        storageKey = try row.get("storageKey")
        createdAt = try row.get("createdAt")
    }
}
