import MariaDB

/// Reads and writes `MediaVariant` rows.
public struct VariantRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func insert(_ variants: [MediaVariant]) throws {
        guard !variants.isEmpty else { return }
        try database.execute(MediaVariant.insertStatement(count: variants.count),
                             try variants.flatMap { try $0.insertValues() })
    }

    /// The variants of many assets in one query, grouped by asset id in kind order. The
    /// unique (assetId, kind) index is named so the planner does not weigh the plain
    /// assetId one too: it gives the order as well, and planning 50 ranges on two indexes
    /// was a third of the query's time.
    public func variants(ofAssets assetIds: [String]) throws -> [String: [MediaVariant]] {
        let ids = Array(Set(assetIds))
        guard !ids.isEmpty else { return [:] }
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        let variants = try MediaVariant.fetchAll(database, """
            SELECT \(MediaVariant.selection) FROM `MediaVariant` FORCE INDEX (`MediaVariant_assetId_kind_key`)
            WHERE `assetId` IN (\(placeholders)) ORDER BY `assetId`, `kind`
            """, ids)
        // Rows come grouped by asset (ORDER BY assetId): one dictionary entry per run.
        var grouped: [String: [MediaVariant]] = [:]
        grouped.reserveCapacity(ids.count)
        var start = variants.startIndex
        while start < variants.endIndex {
            let assetId = variants[start].assetId
            var end = start + 1
            while end < variants.endIndex, variants[end].assetId == assetId { end += 1 }
            grouped[assetId, default: []].append(contentsOf: variants[start..<end])
            start = end
        }
        return grouped
    }

    /// Variants of ready, undeleted assets after `id` in id order, a batch at a time: the
    /// objects `storage copy` and `storage verify` walk.
    public func storedVariants(after id: String, limit: Int) throws -> [MediaVariant] {
        try MediaVariant.fetchAll(database, """
            SELECT \(MediaVariant.selection) FROM `MediaVariant`
            WHERE `id` > ? AND `assetId` IN (
                SELECT `id` FROM `MediaAsset` WHERE `deletedAt` IS NULL AND `status` = ?)
            ORDER BY `id` LIMIT ?
            """, [id, MediaStatus.ready, limit])
    }
}
