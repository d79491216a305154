import MariaDB

/// `MEDIA_USER_QUOTA_BYTES`: the most bytes of originals one user may hold (variants are the
/// service's own cost and are not counted). Off when `limitBytes` is nil.
///
/// The reservation is the ingest's `pending` row itself: it carries the file's size from the
/// start, and a user's use is the sum over rows that hold (or are about to hold) storage,
/// in progress or ready, so it is exact whatever happens next. A refused or failed ingest
/// deletes the row or marks it `failed`, which frees its bytes; one a dead worker left is
/// freed by `gc`. The check and the insert run under the user's named lock, so concurrent
/// uploads on any worker or host see each other's reservations.
public struct StorageQuota: Sendable {
    public let limitBytes: Int64?

    public init(limitBytes: Int64?) {
        self.limitBytes = limitBytes
    }

    public static let off = StorageQuota(limitBytes: nil)

    /// Inserts `asset` (its `pending` row) if its size fits in what the user has left.
    func reserve(_ asset: MediaAsset, in database: Database) throws {
        let assets = AssetRepository(database: database)
        guard let limitBytes else { return try assets.insert(asset) }
        let inserted: Void? = try NamedLock("quota", key: asset.userId).holding(in: database, waitSeconds: 10) {
            let used = try assets.usage(userId: asset.userId).reduce(0) { $0 + $1.bytes }
            guard asset.sizeBytes <= limitBytes - used else {
                throw MediaError.quotaExceeded(usedBytes: used, limitBytes: limitBytes, fileBytes: asset.sizeBytes)
            }
            try assets.insert(asset)
        }
        guard inserted != nil else { throw MediaError.busy }
    }
}
