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

    public init(id: String, userId: String, type: MediaType, mimeType: String, title: String? = nil,
                description: String? = nil, tags: [String]? = nil, sizeBytes: Int64, width: Int? = nil,
                height: Int? = nil, durationMs: Int? = nil, storageKey: String, storageProvider: String,
                checksum: String? = nil, status: MediaStatus, visibility: MediaVisibility = .private,
                source: MediaSource, createdAt: Date, updatedAt: Date, deletedAt: Date? = nil) {
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
    }

    static let columns = """
        `id`, `userId`, `type`, `mimeType`, `title`, `description`, `tags`, `sizeBytes`, `width`, `height`, \
        `durationMs`, `storageKey`, `storageProvider`, `checksum`, `status`, `visibility`, `source`, \
        `createdAt`, `updatedAt`, `deletedAt`
        """

    init(row: Row) throws {
        id = try row.get("id")
        userId = try row.get("userId")
        type = try row.enumValue("type")
        mimeType = try row.get("mimeType")
        title = try row.get("title")
        description = try row.get("description")
        // Tags are ours to write as an array of strings; anything else the Node side
        // stored there reads as no tags rather than failing the whole library.
        // JSONSerialization rather than a JSONDecoder per row: the library decodes 50 at a time.
        tags = (try row.get("tags", as: JSONText?.self)).flatMap {
            (try? JSONSerialization.jsonObject(with: Data($0.text.utf8))) as? [String]
        }
        sizeBytes = try row.get("sizeBytes")
        width = try row.get("width")
        height = try row.get("height")
        durationMs = try row.get("durationMs")
        storageKey = try row.get("storageKey")
        storageProvider = try row.get("storageProvider")
        checksum = try row.get("checksum")
        status = try row.enumValue("status")
        visibility = try row.enumValue("visibility")
        source = try row.enumValue("source")
        createdAt = try row.get("createdAt")
        updatedAt = try row.get("updatedAt")
        deletedAt = try row.get("deletedAt")
    }
}

extension Row {
    /// A column holding a Prisma enum value.
    func enumValue<T: RawRepresentable>(_ column: String) throws -> T where T.RawValue == String {
        let raw: String = try get(column)
        guard let value = T(rawValue: raw) else {
            throw DatabaseError(code: 0, sqlState: "HY000", message: "`\(column)` holds unknown value `\(raw)`", sql: nil)
        }
        return value
    }
}
