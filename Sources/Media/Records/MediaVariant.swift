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

    enum Column: String, CaseIterable {
        case id, assetId, kind, format, width, height, sizeBytes, storageKey, createdAt
    }
}

extension MediaVariant: TableRecord {
    static let table = "MediaVariant"
    static let selection = columnList()

    init(row: RowCursor) throws {
        try self.init(row: row, sharingAssetId: nil)
    }

    /// A row of a result ordered by asset: its asset id shares `assetId`'s String (the
    /// previous row's) when it is the same.
    init(row: RowCursor, sharingAssetId assetId: String?) throws {
        var reader = RecordReader<Column>(row)
        id = try reader.next(.id)
        self.assetId = try reader.next(.assetId, reusing: assetId)
        kind = try reader.next(.kind)
        format = try reader.next(.format)
        width = try reader.next(.width)
        height = try reader.next(.height)
        sizeBytes = try reader.next(.sizeBytes)
        storageKey = try reader.next(.storageKey)
        createdAt = try reader.next(.createdAt)
    }

    func value(of column: Column) -> any DatabaseValueConvertible {
        switch column {
        case .id: return id
        case .assetId: return assetId
        case .kind: return kind
        case .format: return format
        case .width: return width
        case .height: return height
        case .sizeBytes: return sizeBytes
        case .storageKey: return storageKey
        case .createdAt: return createdAt
        }
    }
}
