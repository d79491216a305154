import Foundation
import MariaDB

/// Attaching assets to host-app owners (scripts, scenes, characters…) and reading them back
/// by owner: the rules that span tables. The asset must be the user's and ready; the owner
/// must exist and be the user's (the registry asks the host tables); `cover` holds one asset
/// per owner; a new item without a position goes last. Writes to one owner are serialised
/// with a named lock, so concurrent attaches cannot leave two covers or equal positions.
/// Reads take a constant number of queries whatever the number of attachments.
public struct AttachmentService {
    public enum Outcome {
        case created(PresentedAttachment)
        /// The asset was already attached to that owner in that role.
        case existing(PresentedAttachment)
    }

    public static let maxBatchOwners = 100
    public static let maxMetaBytes = 16 * 1024
    public static let sortOrderRange = 0...1_000_000
    public static let maxReorderedAttachments = 1000

    let database: Database
    let registry: OwnersRegistry
    let presenter: AssetPresenter

    public init(database: Database, registry: OwnersRegistry, presenter: AssetPresenter) {
        self.database = database
        self.registry = registry
        self.presenter = presenter
    }

    var attachments: AttachmentRepository { AttachmentRepository(database: database) }
    var assets: AssetRepository { AssetRepository(database: database) }

    // MARK: - Writes

    /// Attaches one of the user's ready assets. `meta` is JSON object text.
    public func attach(assetId: String, userId: String, to target: AttachmentTarget, sortOrder: Int? = nil,
                       meta: String? = nil) throws -> Outcome {
        let meta = try Self.validated(meta: meta)
        try Self.validate(sortOrder: sortOrder)
        guard let asset = try assets.find(id: assetId, userId: userId), asset.status == .ready else {
            throw MediaError.notFound(.asset)
        }
        let (attachment, created) = try withOwnerLock(target.ownerType, target.ownerId) {
            try requireOwner(target.ownerType, id: target.ownerId, userId: userId)
            return try database.inTransaction {
                try insert(assetId: assetId, userId: userId, target: target, sortOrder: sortOrder, meta: meta)
            }
        }
        let presented = PresentedAttachment(attachment: attachment, asset: try presenter.present(asset))
        return created ? .created(presented) : .existing(presented)
    }

    /// Position and meta (absent: unchanged; `.some(nil)` meta: cleared).
    public func update(attachmentId: String, userId: String, sortOrder: Int?,
                       meta: String??) throws -> PresentedAttachment {
        try Self.validate(sortOrder: sortOrder)
        let meta = try meta.map { try Self.validated(meta: $0) }
        guard try attachments.update(id: attachmentId, userId: userId, sortOrder: sortOrder, meta: meta),
              let attachment = try attachments.find(id: attachmentId, userId: userId),
              let presented = try present([attachment]).first else {
            throw MediaError.notFound(.attachment)
        }
        return presented
    }

    public func detach(attachmentId: String, userId: String) throws {
        guard try attachments.delete(id: attachmentId, userId: userId) else { throw MediaError.notFound(.attachment) }
    }

    /// Puts the listed attachments of an owner first, in that order (0, 1, 2…); the
    /// others follow in their current order.
    public func reorder(ownerType: MediaOwnerType, ownerId: String, userId: String,
                        attachmentIds: [String]) throws -> [PresentedAttachment] {
        guard Set(attachmentIds).count == attachmentIds.count,
              attachmentIds.count <= Self.maxReorderedAttachments else {
            throw MediaError.invalid(code: "invalid_attachment_ids",
                                     message: "`attachmentIds` must be distinct attachment ids.")
        }
        try requireOwner(ownerType, id: ownerId, userId: userId)
        let ordered = try withOwnerLock(ownerType, ownerId) {
            try database.inTransaction {
                let current = try attachments.attachments(ownerType: ownerType, ownerIds: [ownerId], userId: userId)
                let known = Set(current.map(\.id))
                let unknown = attachmentIds.filter { !known.contains($0) }
                guard unknown.isEmpty else { throw MediaError.notAttachmentsOfOwner(unknown) }
                let listed = Set(attachmentIds)
                let order = attachmentIds + current.map(\.id).filter { !listed.contains($0) }
                try attachments.setSortOrders(Array(zip(order, order.indices)), userId: userId)
                return try attachments.attachments(ownerType: ownerType, ownerIds: [ownerId], userId: userId)
            }
        }
        return try present(ordered)
    }

    // MARK: - Reads

    /// One owner's attachments in display order (role, then position); only the key when
    /// `rendered` holds a rendering of what was read (see `RenderedContent`).
    public func media(ownerType: MediaOwnerType, ownerId: String, userId: String, role: MediaRole?,
                      rendered: (any RenderedContent)? = nil) throws -> ContentAnswer<[PresentedAttachment]> {
        // Without renderings to look in, nothing needs the digest: no row is hashed.
        let digest = readDigest("owner media", userId: userId), recorded = rendered == nil ? nil : digest
        let found = try database.recordingReads(into: recorded) { () throws -> [PresentedAttachment]? in
            try requireOwner(ownerType, id: ownerId, userId: userId)
            return try attachments.attachments(ownerType: ownerType, ownerIds: [ownerId], userId: userId, role: role,
                                               holding: rendered != nil) { assetIds, list in
                try present(list, attaching: assetIds, userId: userId, unlessRendered: rendered)
            }
        }
        guard let found else { return .rendered(digest.key) }
        return .content(found, key: recorded?.key)
    }

    /// Several owners at once (the API allows `maxBatchOwners`), keyed by owner id. Owners that are missing or
    /// another user's are simply absent from the answer.
    public func media(ownerType: MediaOwnerType, ownerIds: [String], userId: String, role: MediaRole?,
                      rendered: (any RenderedContent)? = nil) throws -> ContentAnswer<[String: [PresentedAttachment]]> {
        // Without renderings to look in, nothing needs the digest: no row is hashed.
        let digest = readDigest("owners media", userId: userId), recorded = rendered == nil ? nil : digest
        let read = try database.recordingReads(into: recorded) { () throws -> (Set<String>, [PresentedAttachment]?) in
            let owned = try registry.existing(ownerType, ids: ownerIds, userId: userId, in: database)
            return (owned, try attachments.attachments(ownerType: ownerType, ownerIds: Array(owned), userId: userId,
                                                       role: role, holding: rendered != nil) { assetIds, list in
                try present(list, attaching: assetIds, userId: userId, unlessRendered: rendered)
            })
        }
        guard let found = read.1 else { return .rendered(digest.key) }
        var grouped: [String: [PresentedAttachment]] = [:]
        for id in read.0 { grouped[id] = [] }
        for item in found { grouped[item.attachment.ownerId, default: []].append(item) }
        return .content(grouped, key: recorded?.key)
    }

    /// A digest of a read of `userId`'s data that renders `what`, whose URLs are those of now.
    private func readDigest(_ what: String, userId: String) -> ReadDigest {
        ReadDigest(context: what + " 1, URLs " + (presenter.urlGeneration(at: Date()) ?? "-"), scope: userId)
    }

    // MARK: - Attach on upload

    /// Attaches an asset being ingested in the ingest's own transaction, under the owner's
    /// lock: when the owner is refused, nothing of the upload remains.
    public func attachingOnIngest(userId: String, to target: AttachmentTarget) -> some IngestCompanion<MediaAttachment> {
        AttachOnIngest(service: self, userId: userId, target: target)
    }

    private struct AttachOnIngest: IngestCompanion {
        let service: AttachmentService
        let userId: String
        let target: AttachmentTarget

        func guarding<T>(_ commit: () throws -> T) throws -> T {
            try service.withOwnerLock(target.ownerType, target.ownerId, commit)
        }

        func write(alongside asset: MediaAsset) throws -> MediaAttachment {
            try service.requireOwner(target.ownerType, id: target.ownerId, userId: userId)
            return try service.insert(assetId: asset.id, userId: userId, target: target, sortOrder: nil, meta: nil)
                .attachment
        }
    }

    // MARK: - Rules

    func requireOwner(_ type: MediaOwnerType, id: String, userId: String) throws {
        guard try registry.exists(type, id: id, userId: userId, in: database) else { throw MediaError.notFound(.owner) }
    }

    /// Inside a transaction, under the owner's lock: the existing attachment in that role,
    /// or a new one (replacing the owner's cover for `cover`).
    private func insert(assetId: String, userId: String, target: AttachmentTarget, sortOrder: Int?,
                        meta: JSONText?) throws -> (attachment: MediaAttachment, created: Bool) {
        let (type, ownerId, role) = (target.ownerType, target.ownerId, target.role)
        if let existing = try attachments.find(assetId: assetId, ownerType: type, ownerId: ownerId, role: role) {
            return (existing, false)
        }
        if role == .cover {
            try attachments.deleteRole(.cover, ownerType: type, ownerId: ownerId, userId: userId)
        }
        let position = try sortOrder ?? attachments.nextSortOrder(ownerType: type, ownerId: ownerId, role: role)
        let attachment = MediaAttachment(
            id: MediaID.generate(), assetId: assetId, userId: userId, ownerType: type, ownerId: ownerId,
            role: role, sortOrder: position, meta: meta, createdAt: .databaseNow)
        try attachments.insert(attachment)
        return (attachment, true)
    }

    /// Attachments with their assets and variants: two queries for any number of them.
    /// Attachments whose asset is no longer ready or was deleted are left out.
    private func present(_ list: [MediaAttachment]) throws -> [PresentedAttachment] {
        guard let userId = list.first?.userId else { return [] }
        return try present({ list }, attaching: list.map(\.assetId), userId: userId, unlessRendered: nil) ?? []
    }

    /// As `present(_:)`, for the attachments `list` decodes, which attach `assetIds`; nil
    /// when `rendered` holds a rendering of what was read, and then `list` is not called.
    private func present(_ list: () throws -> [MediaAttachment], attaching assetIds: [String], userId: String,
                         unlessRendered rendered: (any RenderedContent)?) throws -> [PresentedAttachment]? {
        guard !assetIds.isEmpty else { return [] }
        let found = try assets.find(ids: assetIds, userId: userId)
        // In id order: the variants query binds the same ids the same way each time (the
        // ids are sorted, not the records: moving a record retains each of its Strings).
        let ready = found.keys.sorted().compactMap { found[$0] }.filter { $0.status == .ready }
        guard let variants = try presenter.variants(ofAssets: ready.map(\.id), unlessRendered: rendered) else { return nil }
        let presented = presenter.present(ready, variants: variants)
        let byId = Dictionary(uniqueKeysWithValues: presented.map { ($0.asset.id, $0) })
        return try list().compactMap { attachment in
            byId[attachment.assetId].map { PresentedAttachment(attachment: attachment, asset: $0) }
        }
    }

    /// Serialises writers of one owner across workers and hosts.
    private func withOwnerLock<T>(_ type: MediaOwnerType, _ id: String, _ body: () throws -> T) throws -> T {
        guard let value = try NamedLock("owner", key: "\(type.rawValue):\(id)")
            .holding(in: database, waitSeconds: 10, body) else { throw MediaError.ownerBusy }
        return value
    }

    private static func validate(sortOrder: Int?) throws {
        guard let sortOrder, !sortOrderRange.contains(sortOrder) else { return }
        throw MediaError.invalid(code: "invalid_sort_order",
                                 message: "`sortOrder` is a whole number from 0 to \(sortOrderRange.upperBound).")
    }

    private static func validated(meta: String?) throws -> JSONText? {
        guard let meta else { return nil }
        guard meta.utf8.count <= maxMetaBytes else {
            throw MediaError.invalid(code: "invalid_meta", message: "`meta` is a JSON object of at most \(maxMetaBytes) bytes.")
        }
        return JSONText(meta)
    }
}
