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

    /// The variants of many assets in one query, grouped by asset id in kind order.
    public func variants(ofAssets assetIds: [String]) throws -> [String: [MediaVariant]] {
        let ids = Array(Set(assetIds))
        guard !ids.isEmpty else { return [:] }
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        let rows = try database.query("""
            SELECT \(MediaVariant.selection) FROM `MediaVariant`
            WHERE `assetId` IN (\(placeholders)) ORDER BY `assetId`, `kind`
            """, ids)
        var grouped: [String: [MediaVariant]] = [:]
        for row in rows {
            let variant = try MediaVariant(row: row)
            grouped[variant.assetId, default: []].append(variant)
        }
        return grouped
    }

    /// Variants of ready, undeleted assets after `id` in id order, a batch at a time: the
    /// objects `storage copy` and `storage verify` walk.
    public func storedVariants(after id: String, limit: Int) throws -> [MediaVariant] {
        try database.query("""
            SELECT \(MediaVariant.selection) FROM `MediaVariant`
            WHERE `id` > ? AND `assetId` IN (
                SELECT `id` FROM `MediaAsset` WHERE `deletedAt` IS NULL AND `status` = ?)
            ORDER BY `id` LIMIT ?
            """, [id, MediaStatus.ready, limit]).map(MediaVariant.init(row:))
    }
}
