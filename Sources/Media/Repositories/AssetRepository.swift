import Foundation
import MariaDB

/// Reads and writes `MediaAsset` rows. Every read is scoped to a user: another user's
/// asset is indistinguishable from a missing one.
public struct AssetRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func insert(_ asset: MediaAsset) throws {
        try database.execute(MediaAsset.insertStatement(count: 1), try asset.insertValues())
    }

    /// The user's asset, unless it is deleted.
    public func find(id: String, userId: String) throws -> MediaAsset? {
        guard MediaID.isWellFormed(id) else { return nil }
        return try MediaAsset.fetchOne(database, """
            SELECT \(MediaAsset.selection) FROM `MediaAsset`
            WHERE `id` = ? AND `userId` = ? AND `deletedAt` IS NULL
            """, [id, userId])
    }

    /// Several of the user's assets at once (one query), keyed by id.
    public func find(ids: [String], userId: String) throws -> [String: MediaAsset] {
        let wellFormed = Set(ids).filter(MediaID.isWellFormed).sorted()
        guard !wellFormed.isEmpty else { return [:] }
        let placeholders = sqlPlaceholders(wellFormed.count)
        let found = try MediaAsset.fetchAll(database, """
            SELECT \(MediaAsset.selection) FROM `MediaAsset`
            WHERE `userId` = ? AND `deletedAt` IS NULL AND `id` IN (\(placeholders))
            """, [userId] + wellFormed)
        return Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// One library page, plus the cursor of the next page when there is one.
    public func library(_ query: LibraryQuery) throws -> (assets: [MediaAsset], next: LibraryCursor?) {
        let (sql, arguments, limit) = libraryStatement(query)
        let assets = try MediaAsset.fetchAll(database, sql, arguments) { try MediaAsset(row: $0, sharingUserId: query.userId) }
        return Self.page(assets, limit: limit)
    }

    /// As `library`, the rows held undecoded while `body` runs when `holding` (see
    /// `Database.holdingRows`): `body` gets the page's asset ids in page order, and `page`
    /// decodes the page (and the cursor of the next) if `body` needs it. Not holding, the
    /// rows are decoded at once, in one pass.
    public func library<T>(_ query: LibraryQuery, holding: Bool, _ body: (_ ids: [String],
        _ page: () throws -> (assets: [MediaAsset], next: LibraryCursor?)) throws -> T) throws -> T {
        guard holding else {
            let page = try library(query)
            return try body(page.assets.map(\.id)) { page }
        }
        let (sql, arguments, limit) = libraryStatement(query)
        var ids: [String] = [], idColumn = 0
        return try database.holdingRows(sql, arguments, scan: { row, index in
            if index == 0 { (ids, idColumn) = ([], try row.position(of: MediaAsset.Column.id.rawValue)) }
            if index < limit { ids.append(try row.string(idColumn)) }  // the row past the page only says one follows
        }) { held in
            try body(ids) {
                Self.page(try MediaAsset.decodeAll(held) { try MediaAsset(row: $0, sharingUserId: query.userId) }, limit: limit)
            }
        }
    }

    private static func page(_ assets: [MediaAsset], limit: Int) -> (assets: [MediaAsset], next: LibraryCursor?) {
        let page = LibraryCursor.page(assets, limit: limit) { LibraryCursor(createdAt: $0.createdAt, id: $0.id) }
        return (page.items, page.next)
    }

    /// The server's plan for a library query (`EXPLAIN`), one line per row, for DBAs and
    /// the benchmark: it must be a range on `MediaAsset_userId_deletedAt_createdAt_id_idx`.
    public func explainLibrary(_ query: LibraryQuery) throws -> [String] {
        let (sql, arguments, _) = libraryStatement(query)
        return try database.query("EXPLAIN " + sql, arguments).map { row in
            try ["select_type", "table", "type", "possible_keys", "key", "key_len", "rows", "Extra"].map { column in
                "\(column)=\(try row.get(column, as: String?.self) ?? "NULL")"
            }.joined(separator: " ")
        }
    }

    /// Newest first, keyset-paginated; fetches one row more than the page to know if
    /// another page follows.
    private func libraryStatement(_ query: LibraryQuery) -> (String, [any DatabaseValueConvertible], Int) {
        var conditions = ["`userId` = ?", "`deletedAt` IS NULL", "`status` = ?"]
        var arguments: [any DatabaseValueConvertible] = [query.userId, MediaStatus.ready]
        if let type = query.type {
            conditions.append("`type` = ?")
            arguments.append(type)
        }
        if let tag = query.tag {
            conditions.append("JSON_CONTAINS(`tags`, JSON_QUOTE(?))")
            arguments.append(tag)
        }
        if let text = query.titleContains, !text.isEmpty {
            conditions.append("`title` LIKE ? ESCAPE '!'")
            arguments.append(likePattern(containing: text))
        }
        if let after = query.after?.keysetCondition {
            conditions.append(after.sql)
            arguments += after.arguments
        }
        let limit = max(1, min(query.limit, 1000))
        arguments.append(limit + 1)
        // FORCE INDEX: with `deletedAt IS NULL` MariaDB 10.11 prefers a `ref` on the
        // (userId, deletedAt) prefix over the range on createdAt, and a page 900,000 rows
        // deep then walks every newer row (1.7 s instead of 10 ms). The index is part of
        // the schema check-schema verifies.
        let sql = """
            SELECT \(MediaAsset.selection) FROM `MediaAsset` FORCE INDEX (`MediaAsset_userId_deletedAt_createdAt_id_idx`)
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY `createdAt` DESC, `id` DESC LIMIT ?
            """
        return (sql, arguments, limit)
    }

    /// What the user's assets hold in storage, by type: ready ones and ingests in progress
    /// (their rows carry the file's size from the start), not failed or deleted ones.
    public func usage(userId: String) throws -> [(type: MediaType, count: Int, bytes: Int64)] {
        try database.query("""
            SELECT `type`, COUNT(*) AS count, CAST(COALESCE(SUM(`sizeBytes`), 0) AS SIGNED) AS bytes FROM `MediaAsset`
            WHERE `userId` = ? AND `deletedAt` IS NULL AND `status` <> ? GROUP BY `type`
            """, [userId, MediaStatus.failed]).map { row in
            (try row.get("type"), try row.get("count"), try row.get("bytes"))
        }
    }

    public func updateStatus(id: String, to status: MediaStatus, at date: Date = .databaseNow) throws {
        try database.execute("UPDATE `MediaAsset` SET `status` = ?, `updatedAt` = ? WHERE `id` = ?",
                             [status, date, id])
    }

    /// Title, description and tags, as PATCH changes them (nil leaves a field as it is).
    public func updateDetails(id: String, userId: String, title: String??, description: String??,
                              tags: [String]??, at date: Date = .databaseNow) throws -> Bool {
        var assignments = ["`updatedAt` = ?"]
        var arguments: [any DatabaseValueConvertible] = [date]
        if let title {
            assignments.append("`title` = ?")
            arguments.append(title)
        }
        if let description {
            assignments.append("`description` = ?")
            arguments.append(description)
        }
        if let tags {
            assignments.append("`tags` = ?")
            arguments.append(try tags.map { try JSONText(encoding: $0) })
        }
        arguments += [id, userId] as [any DatabaseValueConvertible]
        return try database.execute("""
            UPDATE `MediaAsset` SET \(assignments.joined(separator: ", "))
            WHERE `id` = ? AND `userId` = ? AND `deletedAt` IS NULL
            """, arguments) > 0
    }

    /// Soft delete: the row stays for audit (and the Node app), invisible to every read.
    public func markDeleted(id: String, userId: String, at date: Date = .databaseNow) throws -> Bool {
        try database.execute("""
            UPDATE `MediaAsset` SET `deletedAt` = ?, `updatedAt` = ?
            WHERE `id` = ? AND `userId` = ? AND `deletedAt` IS NULL
            """, [date, date, id, userId]) > 0
    }

    /// The end of a successful ingest: what the file turned out to be, and `ready`.
    public func markReady(_ asset: MediaAsset, at date: Date = .databaseNow) throws {
        try database.execute("""
            UPDATE `MediaAsset` SET `status` = ?, `type` = ?, `mimeType` = ?, `sizeBytes` = ?, `width` = ?,
                `height` = ?, `durationMs` = ?, `storageKey` = ?, `checksum` = ?, `metadata` = ?, `updatedAt` = ?
            WHERE `id` = ?
            """, [MediaStatus.ready, asset.type, asset.mimeType, asset.sizeBytes, asset.width, asset.height, asset.durationMs,
                  asset.storageKey, asset.checksum, try asset.metadata.map { try JSONText(encoding: $0) }, date, asset.id])
    }

    /// Rows an ingest left in `processing` and did not touch since `before`: their worker
    /// died (no ingest outlives the request time limit).
    public func abandoned(before date: Date) throws -> [MediaAsset] {
        try MediaAsset.fetchAll(database, """
            SELECT \(MediaAsset.selection) FROM `MediaAsset`
            WHERE `status` IN (?, ?) AND `updatedAt` < ? AND `deletedAt` IS NULL
            """, [MediaStatus.pending, MediaStatus.processing, date])
    }

    /// Which of these ids are assets whose files must stay: not deleted and not failed
    /// (an ingest in progress inserts its row before it stores anything).
    public func liveIds(_ ids: [String]) throws -> Set<String> {
        let wellFormed = Set(ids).filter(MediaID.isWellFormed).sorted()
        guard !wellFormed.isEmpty else { return [] }
        let placeholders = sqlPlaceholders(wellFormed.count)
        let rows = try database.query("""
            SELECT `id` FROM `MediaAsset`
            WHERE `id` IN (\(placeholders)) AND `deletedAt` IS NULL AND `status` <> ?
            """, wellFormed + [MediaStatus.failed])
        return Set(try rows.map { try $0.get("id") })
    }

    /// Each asset's original checksum and MIME type, by id (what a copied original is verified
    /// and stored with).
    public func originalFacts(_ ids: [String]) throws -> [String: (checksum: String?, mimeType: String)] {
        let unique = Array(Set(ids))
        guard !unique.isEmpty else { return [:] }
        let placeholders = sqlPlaceholders(unique.count)
        var facts: [String: (checksum: String?, mimeType: String)] = [:]
        for row in try database.query("""
            SELECT `id`, `checksum`, `mimeType` FROM `MediaAsset` WHERE `id` IN (\(placeholders))
            """, unique) {
            facts[try row.get("id")] = (try row.get("checksum"), try row.get("mimeType"))
        }
        return facts
    }

    /// Removes a row outright (an ingest that failed before the asset was ever ready).
    public func delete(id: String) throws {
        try database.execute("DELETE FROM `MediaAsset` WHERE `id` = ?", [id])
    }
}
