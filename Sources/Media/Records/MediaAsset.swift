import Foundation
import MariaDB

/// The canonical record of one file in a user's library (table `MediaAsset`).
public struct MediaAsset: Codable, Sendable, Equatable {
    public var id: String
    public var userId: String
    public var type: MediaType
    public var mimeType: String
    public var title: String?
    public var description: String?
    public var tags: [String]?
    public var sizeBytes: Int64
    public var width: Int?
    public var height: Int?
    public var durationMs: Int?
    /// Opaque to clients: the original's key in the origin storage.
    public var storageKey: String
    public var storageProvider: String
    public var checksum: String?
    public var status: MediaStatus
    public var visibility: MediaVisibility
    public var source: MediaSource
    public var createdAt: Date
    public var updatedAt: Date
    public var deletedAt: Date?
    public var metadata: AssetMetadata?

    public init(id: String, userId: String, type: MediaType, mimeType: String, title: String? = nil,
                description: String? = nil, tags: [String]? = nil, sizeBytes: Int64, width: Int? = nil,
                height: Int? = nil, durationMs: Int? = nil, storageKey: String, storageProvider: String,
                checksum: String? = nil, status: MediaStatus, visibility: MediaVisibility = .private,
                source: MediaSource, createdAt: Date, updatedAt: Date, deletedAt: Date? = nil,
                metadata: AssetMetadata? = nil) {
        self.id = id
        self.userId = userId
        self.type = type
        self.mimeType = mimeType
        self.title = title
        self.description = description
        self.tags = tags
        self.sizeBytes = sizeBytes
        self.width = width
        self.height = height
        self.durationMs = durationMs
        self.storageKey = storageKey
        self.storageProvider = storageProvider
        self.checksum = checksum
        self.status = status
        self.visibility = visibility
        self.source = source
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.deletedAt = deletedAt
        self.metadata = metadata
    }

    enum Column: String, CaseIterable {
        case id, userId, type, mimeType, title, description, tags, sizeBytes, width, height, durationMs, storageKey
        case storageProvider, checksum, status, visibility, source, createdAt, updatedAt, deletedAt, metadata
    }
}

extension MediaAsset: TableRecord {
    static let table = "MediaAsset"
    static let selection = columnList()

    init(row: RowCursor) throws {
        try self.init(row: row, sharingUserId: nil)
    }

    /// A row of one user's assets: its user id shares `userId`'s String when it is the same.
    init(row: RowCursor, sharingUserId userId: String?) throws {
        var reader = RecordReader<Column>(row)
        id = try reader.next(.id)
        self.userId = try reader.next(.userId, reusing: userId)
        type = try reader.next(.type)
        mimeType = try reader.next(.mimeType)
        title = try reader.next(.title)
        description = try reader.next(.description)
        // Tags are ours to write as an array of strings; anything else the Node side
        // stored there reads as no tags rather than failing the whole library.
        tags = try reader.nextJSONObject(.tags) as? [String]
        sizeBytes = try reader.next(.sizeBytes)
        width = try reader.next(.width)
        height = try reader.next(.height)
        durationMs = try reader.next(.durationMs)
        storageKey = try reader.next(.storageKey)
        storageProvider = try reader.next(.storageProvider)
        checksum = try reader.next(.checksum)
        status = try reader.next(.status)
        visibility = try reader.next(.visibility)
        source = try reader.next(.source)
        createdAt = try reader.next(.createdAt)
        updatedAt = try reader.next(.updatedAt)
        deletedAt = try reader.next(.deletedAt)
        // Only images have none; anything unreadable (the Node app's own JSON) reads as none.
        metadata = try reader.nextJSONObject(.metadata).flatMap(AssetMetadata.init(jsonObject:))
    }

    func value(of column: Column) throws -> any DatabaseValueConvertible {
        switch column {
        case .id: return id
        case .userId: return userId
        case .type: return type
        case .mimeType: return mimeType
        case .title: return title
        case .description: return description
        case .tags: return try tags.map { try JSONText(encoding: $0) }
        case .sizeBytes: return sizeBytes
        case .width: return width
        case .height: return height
        case .durationMs: return durationMs
        case .storageKey: return storageKey
        case .storageProvider: return storageProvider
        case .checksum: return checksum
        case .status: return status
        case .visibility: return visibility
        case .source: return source
        case .createdAt: return createdAt
        case .updatedAt: return updatedAt
        case .deletedAt: return deletedAt
        case .metadata: return try metadata.map { try JSONText(encoding: $0) }
        }
    }
}
