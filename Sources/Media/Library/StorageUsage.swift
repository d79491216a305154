/// What one user's library holds against the storage quota: every asset that is ready or
/// being ingested, by type (the bytes of originals, as the quota counts them).
public struct StorageUsage: Sendable, Equatable {
    public struct Tally: Sendable, Equatable {
        public var count: Int
        public var bytes: Int64
    }

    public let byType: [MediaType: Tally]
    /// `MEDIA_USER_QUOTA_BYTES`, nil when there is no quota.
    public let limitBytes: Int64?

    public var bytes: Int64 { byType.values.reduce(0) { $0 + $1.bytes } }
    public var count: Int { byType.values.reduce(0) { $0 + $1.count } }

    public func tally(_ type: MediaType) -> Tally { byType[type] ?? Tally(count: 0, bytes: 0) }
}
