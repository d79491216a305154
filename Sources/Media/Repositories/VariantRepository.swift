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
        try variants(ofAssets: assetIds, unlessKnown: nil) ?? [:]
    }

    /// As `variants(ofAssets:)`; nil when `isKnown` recognises the content read (see
    /// `Database.forEachRow(_:_:unlessKnown:_:)`), and then no row is decoded.
    public func variants(ofAssets assetIds: [String],
                         unlessKnown isKnown: ((ContentKey) -> Bool)?) throws -> [String: [MediaVariant]]? {
        // In the callers' order, without repeats: the same ids bind the same way every time.
        var seen = Set<String>(minimumCapacity: assetIds.count)
        let ids = assetIds.filter { seen.insert($0).inserted }
        guard !ids.isEmpty else { return [:] }
        let placeholders = sqlPlaceholders(ids.count)
        // Rows come grouped by asset (ORDER BY assetId, so each asset is one run): a run is
        // decoded into its own array and stored whole, with no intermediate array to copy.
        var grouped: [String: [MediaVariant]] = [:]
        grouped.reserveCapacity(ids.count)
        // An asset has at most one variant of each kind: a run's array is allocated once.
        let runCapacity = MediaVariantKind.allCases.count
        var run: [MediaVariant] = [], runAssetId: String?
        let decoded = try database.forEachRow("""
            SELECT \(MediaVariant.selection) FROM `MediaVariant` FORCE INDEX (`MediaVariant_assetId_kind_key`)
            WHERE `assetId` IN (\(placeholders)) ORDER BY `assetId`, `kind`
            """, ids, unlessKnown: isKnown) { row, _ in
            let variant = try MediaVariant(row: row, sharingAssetId: runAssetId)
            if let assetId = runAssetId, assetId != variant.assetId {
                grouped[assetId] = run
                run = []  // the dictionary's array is then the only reference: no copy
            }
            if run.isEmpty { run.reserveCapacity(runCapacity) }
            runAssetId = variant.assetId
            run.append(consume variant)
        }
        guard decoded else { return nil }
        if let assetId = runAssetId { grouped[assetId] = run }
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
