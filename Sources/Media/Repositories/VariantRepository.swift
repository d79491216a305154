import MariaDB

/// Reads and writes `MediaVariant` rows.
public struct VariantRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func insert(_ variants: [MediaVariant]) throws {
        guard !variants.isEmpty else { return }
        let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
        var arguments: [any DatabaseValueConvertible] = []
        for variant in variants {
            arguments += [variant.id, variant.assetId, variant.kind.rawValue, variant.format, variant.width,
                          variant.height, variant.sizeBytes, variant.storageKey, variant.createdAt]
                as [any DatabaseValueConvertible]
        }
        try database.execute("""
            INSERT INTO `MediaVariant` (\(MediaVariant.columns))
            VALUES \(Array(repeating: row, count: variants.count).joined(separator: ", "))
            """, arguments)
    }

    /// The variants of many assets in one query, grouped by asset id in kind order.
    public func variants(ofAssets assetIds: [String]) throws -> [String: [MediaVariant]] {
        let ids = Array(Set(assetIds))
        guard !ids.isEmpty else { return [:] }
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        let rows = try database.query("""
            SELECT \(MediaVariant.columns) FROM `MediaVariant`
            WHERE `assetId` IN (\(placeholders)) ORDER BY `assetId`, `kind`
            """, ids)
        var grouped: [String: [MediaVariant]] = [:]
        for row in rows {
            let variant = try MediaVariant(row: row)
            grouped[variant.assetId, default: []].append(variant)
        }
        return grouped
    }
}
