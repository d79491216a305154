import Foundation
import MariaDB

/// Reads and writes `MediaAttachment` rows, always within one user's data.
public struct AttachmentRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func insert(_ attachment: MediaAttachment) throws {
        try database.execute("""
            INSERT INTO `MediaAttachment` (\(MediaAttachment.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [attachment.id, attachment.assetId, attachment.userId, attachment.ownerType.rawValue,
                  attachment.ownerId, attachment.role.rawValue, attachment.sortOrder, attachment.meta,
                  attachment.createdAt])
    }

    public func find(id: String, userId: String) throws -> MediaAttachment? {
        guard MediaID.isWellFormed(id) else { return nil }
        return try database.queryOne("""
            SELECT \(MediaAttachment.columns) FROM `MediaAttachment` WHERE `id` = ? AND `userId` = ?
            """, [id, userId]).map(MediaAttachment.init(row:))
    }

    /// An owner's attachments in display order (role, then sortOrder).
    public func attachments(ownerType: MediaOwnerType, ownerId: String, userId: String,
                            role: MediaRole? = nil) throws -> [MediaAttachment] {
        var sql = """
            SELECT \(MediaAttachment.columns) FROM `MediaAttachment`
            WHERE `ownerType` = ? AND `ownerId` = ? AND `userId` = ?
            """
        var arguments: [any DatabaseValueConvertible] = [ownerType.rawValue, ownerId, userId]
        if let role {
            sql += " AND `role` = ?"
            arguments.append(role.rawValue)
        }
        sql += " ORDER BY `role`, `sortOrder`, `createdAt`, `id`"
        return try database.query(sql, arguments).map(MediaAttachment.init(row:))
    }

    /// Removes every attachment of an asset (when the asset is deleted).
    @discardableResult
    public func deleteAll(assetId: String) throws -> Int {
        try database.execute("DELETE FROM `MediaAttachment` WHERE `assetId` = ?", [assetId])
    }

    public func delete(id: String, userId: String) throws -> Bool {
        try database.execute("DELETE FROM `MediaAttachment` WHERE `id` = ? AND `userId` = ?", [id, userId]) > 0
    }
}
