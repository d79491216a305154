import Foundation
import Hashing
import MariaDB

/// Attaching assets to host-app owners (scripts, scenes, characters…): the rules that
/// span tables. The asset must be the user's and ready; the owner must exist and be the
/// user's (the registry asks the host tables); `cover` holds one asset per owner; a new
/// item without a position goes last. Writes to one owner are serialised with a named
/// lock, so concurrent attaches cannot leave two covers or equal positions.
public struct AttachmentService {
    public enum Failure: Error, Equatable {
        case assetNotFound
        case ownerNotFound
        case unknownAttachments([String])
    }

    public enum Outcome {
        case created(MediaAttachment)
        /// The asset was already attached to that owner in that role.
        case existing(MediaAttachment)
    }

    public let database: Database
    public let registry: OwnersRegistry

    public init(database: Database, registry: OwnersRegistry) {
        self.database = database
        self.registry = registry
    }

    var attachments: AttachmentRepository { AttachmentRepository(database: database) }

    public func requireOwner(_ type: MediaOwnerType, id: String, userId: String) throws {
        guard try registry.exists(type, id: id, userId: userId, in: database) else { throw Failure.ownerNotFound }
    }

    public func attach(assetId: String, userId: String, ownerType: MediaOwnerType, ownerId: String, role: MediaRole,
                       sortOrder: Int? = nil, meta: JSONText? = nil) throws -> Outcome {
        guard let asset = try AssetRepository(database: database).find(id: assetId, userId: userId),
              asset.status == .ready else { throw Failure.assetNotFound }
        try requireOwner(ownerType, id: ownerId, userId: userId)
        return try withOwnerLock(ownerType, ownerId) {
            try database.inTransaction {
                if let existing = try attachments.find(assetId: assetId, ownerType: ownerType, ownerId: ownerId,
                                                       role: role) {
                    return .existing(existing)
                }
                if role == .cover {
                    try attachments.deleteRole(.cover, ownerType: ownerType, ownerId: ownerId, userId: userId)
                }
                let position = try sortOrder
                    ?? attachments.nextSortOrder(ownerType: ownerType, ownerId: ownerId, role: role)
                let attachment = MediaAttachment(
                    id: MediaID.generate(), assetId: assetId, userId: userId, ownerType: ownerType, ownerId: ownerId,
                    role: role, sortOrder: position, meta: meta, createdAt: .databaseNow)
                try attachments.insert(attachment)
                return .created(attachment)
            }
        }
    }

    /// Puts the listed attachments of an owner first, in that order (0, 1, 2…); the
    /// others follow in their current order.
    public func reorder(ownerType: MediaOwnerType, ownerId: String, userId: String,
                        attachmentIds: [String]) throws -> [MediaAttachment] {
        try requireOwner(ownerType, id: ownerId, userId: userId)
        return try withOwnerLock(ownerType, ownerId) {
            try database.inTransaction {
                let current = try attachments.attachments(ownerType: ownerType, ownerIds: [ownerId], userId: userId)
                let known = Set(current.map(\.id))
                let unknown = attachmentIds.filter { !known.contains($0) }
                guard unknown.isEmpty else { throw Failure.unknownAttachments(unknown) }
                let listed = Set(attachmentIds)
                let order = attachmentIds + current.map(\.id).filter { !listed.contains($0) }
                try attachments.setSortOrders(Array(zip(order, order.indices)), userId: userId)
                return try attachments.attachments(ownerType: ownerType, ownerIds: [ownerId], userId: userId)
            }
        }
    }

    /// Serialises writers of one owner across workers. MariaDB releases the lock if the
    /// connection dies, so a crashed worker cannot leave it held.
    private func withOwnerLock<T>(_ type: MediaOwnerType, _ id: String, _ body: () throws -> T) throws -> T {
        // Lock names are at most 64 characters.
        let name = "media-owner:" + SHA256.hex(Array("\(type.rawValue):\(id)".utf8)).prefix(40)
        let acquired = try database.queryOne("SELECT GET_LOCK(?, 10) AS acquired", [name])?
            .get("acquired", as: Int?.self)
        guard acquired == 1 else {
            throw DatabaseError(code: 1205, sqlState: "HY000", message: "timed out waiting for owner lock", sql: nil)
        }
        defer { _ = try? database.query("SELECT RELEASE_LOCK(?)", [name]) }
        return try body()
    }
}
