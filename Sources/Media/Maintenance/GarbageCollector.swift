import Foundation
import MariaDB

/// What `media-server gc` finds and (unless it is a dry run) removes: storage objects of
/// no live asset, temp files older than an hour, asset rows an ingest left in
/// `pending`/`processing` when its worker died, writes to the origin its worker never
/// finished (a bucket's multipart uploads), and attachments whose owner no longer exists
/// in the host tables.
public struct GarbageCollector {
    public struct Finding: Sendable, Equatable {
        public enum Kind: String, Sendable {
            case orphanObjects = "orphan-objects"
            case staleTemporaryFile = "stale-temp-file"
            case abandonedIngest = "abandoned-ingest"
            case orphanAttachments = "orphan-attachments"
            case abandonedWrite = "abandoned-write"
        }
        public let kind: Kind
        public let subject: String
    }

    public let database: Database
    public let storage: any OriginStorage
    public let staging: StagingArea
    public let owners: OwnersRegistry
    /// A row untouched this long in `pending`/`processing` belongs to a dead worker.
    public let abandonedAfter: TimeInterval
    public let temporaryFileAge: TimeInterval

    public init(database: Database, storage: any OriginStorage, staging: StagingArea, owners: OwnersRegistry,
                abandonedAfter: TimeInterval, temporaryFileAge: TimeInterval = 3600) {
        self.database = database
        self.storage = storage
        self.staging = staging
        self.owners = owners
        self.abandonedAfter = abandonedAfter
        self.temporaryFileAge = temporaryFileAge
    }

    /// Runs every pass; `remove: false` only reports. `report` sees each finding as it is handled.
    public func run(remove: Bool, report: (Finding) -> Void) throws {
        let assets = AssetRepository(database: database)

        // Abandoned ingests first: their files then count as orphans below.
        for asset in try assets.abandoned(before: Date.databaseNow.addingTimeInterval(-abandonedAfter)) {
            report(Finding(kind: .abandonedIngest, subject: "\(asset.userId)/\(asset.id) (\(asset.status.rawValue))"))
            if remove { try assets.delete(id: asset.id) }
        }

        let stored = try storage.storedAssets()
        var live = Set<String>()
        for start in stride(from: 0, to: stored.count, by: 500) {
            live.formUnion(try assets.liveIds(stored[start..<min(start + 500, stored.count)].map(\.assetId)))
        }
        for (userId, assetId) in stored where !live.contains(assetId) {
            report(Finding(kind: .orphanObjects, subject: StorageKey.assetPrefix(userId: userId, assetId: assetId)))
            if remove { try storage.deleteAsset(userId: userId, assetId: assetId) }
        }

        for write in try storage.abandonedWrites(startedBefore: Date().addingTimeInterval(-abandonedAfter)) {
            report(Finding(kind: .abandonedWrite, subject: write))
            if remove { try storage.removeAbandonedWrite(write) }
        }

        // Owners deleted in the host app: asked per owner type and user, in batches.
        let attachments = AttachmentRepository(database: database)
        var byTypeAndUser: [String: [(type: MediaOwnerType, ownerId: String, userId: String)]] = [:]
        for owner in try attachments.owners() { byTypeAndUser["\(owner.type.rawValue)\u{0}\(owner.userId)", default: []].append(owner) }
        for group in byTypeAndUser.values {
            let (type, userId) = (group[0].type, group[0].userId)
            let existing = try owners.existing(type, ids: group.map(\.ownerId), userId: userId, in: database)
            for owner in group where !existing.contains(owner.ownerId) {
                report(Finding(kind: .orphanAttachments, subject: "\(type.rawValue)/\(owner.ownerId) (user \(userId))"))
                if remove { try attachments.deleteOwner(type, ownerId: owner.ownerId, userId: userId) }
            }
        }

        let cutoff = Date().addingTimeInterval(-temporaryFileAge)
        let manager = FileManager.default
        for name in (try? manager.contentsOfDirectory(atPath: staging.directory)) ?? [] {
            let path = staging.directory + "/" + name
            guard let modified = (try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                  modified < cutoff else { continue }
            report(Finding(kind: .staleTemporaryFile, subject: ".tmp/" + name))
            if remove { try? manager.removeItem(atPath: path) }
        }
    }
}
