import Foundation
import MariaDB

/// Reads and writes `MediaAttachment` rows. Reads and writes that start from a request are
/// scoped to a user; the owner-wide ones (`find(assetId:…)`, `nextSortOrder`, `deleteAll`)
/// run only after the caller checked that the owner or asset is the user's.
public struct AttachmentRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func insert(_ attachment: MediaAttachment) throws {
        try database.execute(MediaAttachment.insertStatement(count: 1), try attachment.insertValues())
    }

    public func find(id: String, userId: String) throws -> MediaAttachment? {
        guard MediaID.isWellFormed(id) else { return nil }
        return try MediaAttachment.fetchOne(database, """
            SELECT \(MediaAttachment.selection) FROM `MediaAttachment` WHERE `id` = ? AND `userId` = ?
            """, [id, userId])
    }

    /// The attachments of one or many owners of a type (one query), in display order:
    /// role, then position.
    public func attachments(ownerType: MediaOwnerType, ownerIds: [String], userId: String,
                            role: MediaRole? = nil) throws -> [MediaAttachment] {
        guard let (sql, arguments) = attachmentsStatement(ownerType, ownerIds, userId, role) else { return [] }
        return try MediaAttachment.fetchAll(database, sql, arguments)
    }

    /// As `attachments`, the rows held undecoded while `body` runs when `holding` (see
    /// `Database.holdingRows`): `body` gets the asset ids they attach (each once, sorted,
    /// when held), and `list` decodes the attachments if `body` needs them. Not holding, the
    /// rows are decoded at once, in one pass.
    public func attachments<T>(ownerType: MediaOwnerType, ownerIds: [String], userId: String, role: MediaRole?,
                               holding: Bool,
                               _ body: (_ assetIds: [String], _ list: () throws -> [MediaAttachment]) throws -> T) throws -> T {
        guard holding, let (sql, arguments) = attachmentsStatement(ownerType, ownerIds, userId, role) else {
            let list = try attachments(ownerType: ownerType, ownerIds: ownerIds, userId: userId, role: role)
            return try body(list.map(\.assetId)) { list }
        }
        var assetIds = Set<String>(), assetIdColumn = 0
        return try database.holdingRows(sql, arguments, scan: { row, index in
            if index == 0 { (assetIds, assetIdColumn) = ([], try row.position(of: MediaAttachment.Column.assetId.rawValue)) }
            assetIds.insert(try row.string(assetIdColumn))
        }) { held in
            try body(assetIds.sorted()) { try MediaAttachment.decodeAll(held) }
        }
    }

    /// The attachments query and its values; nil without owners.
    private func attachmentsStatement(_ ownerType: MediaOwnerType, _ ownerIds: [String], _ userId: String,
                                      _ role: MediaRole?) -> (String, [any DatabaseValueConvertible])? {
        let ids = Set(ownerIds).sorted()  // bound the same way every time (see `ReadDigest`)
        guard !ids.isEmpty else { return nil }
        var sql = """
            SELECT \(MediaAttachment.selection) FROM `MediaAttachment`
            WHERE `ownerType` = ? AND `ownerId` IN (\(sqlPlaceholders(ids.count)))
                AND `userId` = ?
            """
        var arguments: [any DatabaseValueConvertible] = [ownerType]
        arguments += ids as [any DatabaseValueConvertible]
        arguments.append(userId)
        if let role {
            sql += " AND `role` = ?"
            arguments.append(role)
        }
        sql += " ORDER BY `ownerId`, `role`, `sortOrder`, `createdAt`, `id`"
        return (sql, arguments)
    }

    /// The attachment of an asset to an owner in a role (the unique key).
    public func find(assetId: String, ownerType: MediaOwnerType, ownerId: String,
                     role: MediaRole) throws -> MediaAttachment? {
        try MediaAttachment.fetchOne(database, """
            SELECT \(MediaAttachment.selection) FROM `MediaAttachment`
            WHERE `ownerType` = ? AND `ownerId` = ? AND `role` = ? AND `assetId` = ?
            """, [ownerType, ownerId, role, assetId])
    }

    /// One past the last position in an owner's role: where a new item goes.
    public func nextSortOrder(ownerType: MediaOwnerType, ownerId: String, role: MediaRole) throws -> Int {
        try database.queryOne("""
            SELECT COALESCE(MAX(`sortOrder`) + 1, 0) AS next FROM `MediaAttachment`
            WHERE `ownerType` = ? AND `ownerId` = ? AND `role` = ?
            """, [ownerType, ownerId, role])?.get("next", as: Int.self) ?? 0
    }

    public func deleteRole(_ role: MediaRole, ownerType: MediaOwnerType, ownerId: String, userId: String) throws {
        try database.execute("""
            DELETE FROM `MediaAttachment` WHERE `ownerType` = ? AND `ownerId` = ? AND `role` = ? AND `userId` = ?
            """, [ownerType, ownerId, role, userId])
    }

    /// New positions, in one statement.
    public func setSortOrders(_ positions: [(id: String, sortOrder: Int)], userId: String) throws {
        guard !positions.isEmpty else { return }
        var cases = ""
        var arguments: [any DatabaseValueConvertible] = []
        for (id, sortOrder) in positions {
            cases += " WHEN ? THEN ?"
            arguments += [id, sortOrder] as [any DatabaseValueConvertible]
        }
        arguments += positions.map(\.id) as [any DatabaseValueConvertible]
        arguments.append(userId)
        try database.execute("""
            UPDATE `MediaAttachment` SET `sortOrder` = CASE `id`\(cases) END
            WHERE `id` IN (\(sqlPlaceholders(positions.count))) AND `userId` = ?
            """, arguments)
    }

    /// Position and meta, as PATCH changes them (nil leaves a field as it is).
    public func update(id: String, userId: String, sortOrder: Int?, meta: JSONText??) throws -> Bool {
        var assignments: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let sortOrder {
            assignments.append("`sortOrder` = ?")
            arguments.append(sortOrder)
        }
        if let meta {
            assignments.append("`meta` = ?")
            arguments.append(meta)
        }
        guard !assignments.isEmpty else { return try find(id: id, userId: userId) != nil }
        arguments += [id, userId] as [any DatabaseValueConvertible]
        return try database.execute("""
            UPDATE `MediaAttachment` SET \(assignments.joined(separator: ", ")) WHERE `id` = ? AND `userId` = ?
            """, arguments) > 0 || find(id: id, userId: userId) != nil
    }

    /// Every (owner type, owner id, user) that has attachments, for garbage collection.
    public func owners() throws -> [(type: MediaOwnerType, ownerId: String, userId: String)] {
        try database.query("SELECT DISTINCT `ownerType`, `ownerId`, `userId` FROM `MediaAttachment`").map { row in
            (try row.get("ownerType"), try row.get("ownerId"), try row.get("userId"))
        }
    }

    public func deleteOwner(_ type: MediaOwnerType, ownerId: String, userId: String) throws {
        try database.execute("""
            DELETE FROM `MediaAttachment` WHERE `ownerType` = ? AND `ownerId` = ? AND `userId` = ?
            """, [type, ownerId, userId])
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
