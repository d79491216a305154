import Foundation
import MariaDB

/// What an upload brings beside its bytes, as the client sent it (validated here).
public struct UploadDetails: Sendable {
    public var title: String?
    public var description: String?
    public var tags: [String]?
    /// The client's name for the file: only ever used to make a slug.
    public var originalFilename: String?
    /// Attach on upload: committed with the asset, or neither is.
    public var attachTo: AttachmentTarget?

    public init(title: String?, description: String?, tags: [String]?, originalFilename: String?,
                attachTo: AttachmentTarget?) {
        (self.title, self.description, self.tags) = (title, description, tags)
        (self.originalFilename, self.attachTo) = (originalFilename, attachTo)
    }
}

/// A PATCH of an asset's details: nil leaves a field alone, `.some(nil)` clears it.
public struct AssetChanges: Sendable {
    public var title: String??
    public var description: String??
    public var tags: [String]??

    public init(title: String??, description: String??, tags: [String]??) {
        (self.title, self.description, self.tags) = (title, description, tags)
    }
}

/// A user's library: upload, show, edit, delete, list. Every read and write is scoped to
/// the user; another user's asset answers `notFound` exactly like a missing one.
public struct AssetLibrary {
    public static let maxPageSize = 100

    let database: Database
    let storage: any OriginStorage
    let ingest: IngestService
    let attachments: AttachmentService
    let presenter: AssetPresenter
    let stagingDirectory: String
    /// The largest files accepted, images and videos.
    public let uploadLimits: UploadLimits

    public init(database: Database, storage: any OriginStorage, ingest: IngestService, attachments: AttachmentService,
                presenter: AssetPresenter, stagingDirectory: String, uploadLimits: UploadLimits) {
        self.database = database
        self.storage = storage
        self.ingest = ingest
        self.attachments = attachments
        self.presenter = presenter
        self.stagingDirectory = stagingDirectory
        self.uploadLimits = uploadLimits
    }

    var assets: AssetRepository { AssetRepository(database: database) }

    /// A staged file for an upload's bytes, refusing more than its type's limit.
    public func stageUpload() throws -> StagedFile {
        try StagedFile(directory: stagingDirectory, limits: uploadLimits)
    }

    /// The one ingest path, then (in its transaction) the attach if one was asked for.
    public func upload(_ file: StagedFile, _ details: UploadDetails,
                       userId: String) throws -> (asset: PresentedAsset, attachment: MediaAttachment?) {
        let request = IngestRequest(
            userId: userId, source: .upload, title: try AssetDetails.title(details.title),
            description: try AssetDetails.description(details.description),
            tags: try details.tags.map(AssetDetails.tags), originalFilename: details.originalFilename)
        guard let target = details.attachTo else {
            let (asset, variants) = try ingest.ingest(file, request)
            return (presenter.present(asset, variants: variants), nil)
        }
        let (asset, variants, attachment) = try ingest.ingest(
            file, request, with: attachments.attachingOnIngest(userId: userId, to: target))
        return (presenter.present(asset, variants: variants), attachment)
    }

    /// What the user's library holds against the storage quota.
    public func usage(userId: String) throws -> StorageUsage {
        var byType: [MediaType: StorageUsage.Tally] = [:]
        for (type, count, bytes) in try assets.usage(userId: userId) {
            byType[type] = StorageUsage.Tally(count: count, bytes: bytes)
        }
        return StorageUsage(byType: byType, limitBytes: ingest.quota.limitBytes)
    }

    public func asset(id: String, userId: String) throws -> PresentedAsset {
        try presenter.present(try readyAsset(id: id, userId: userId))
    }

    public func update(id: String, userId: String, _ changes: AssetChanges) throws -> PresentedAsset {
        let current = try readyAsset(id: id, userId: userId)
        let title = try changes.title.map { try AssetDetails.title($0) }
        let description = try changes.description.map { try AssetDetails.description($0) }
        let tags = try changes.tags.map { try $0.map(AssetDetails.tags) }
        guard try assets.updateDetails(id: current.id, userId: userId, title: title, description: description,
                                       tags: tags) else { throw MediaError.notFound(.asset) }
        return try asset(id: id, userId: userId)
    }

    /// Soft delete: the row stays (marked deleted), its attachments go with it, then its files.
    public func delete(id: String, userId: String) throws {
        let asset = try readyAsset(id: id, userId: userId)
        let deleted = try database.inTransaction {
            let marked = try assets.markDeleted(id: asset.id, userId: userId)
            if marked { try AttachmentRepository(database: database).deleteAll(assetId: asset.id) }
            return marked
        }
        guard deleted else { throw MediaError.notFound(.asset) }
        // After the commit: if this fails, the files are orphans that `media-server gc` removes.
        try storage.deleteAsset(userId: userId, assetId: asset.id)
    }

    /// A library page, or only word that the client's copy is current, or that a
    /// rendering of exactly this page is at hand.
    public enum PageAnswer {
        case page(items: [PresentedAsset], next: LibraryCursor?, validator: String, content: ContentKey)
        case rendered(content: ContentKey, validator: String)
        case notModified(validator: String)
    }

    /// One page of the library, newest first, and the cursor of the next page if any, with
    /// a weak validator derived from what the page contains: the digest of the assets query,
    /// its values and every column of every row it read (an edit, a finished ingest, a
    /// delete and a new upload all change it), and the generation of the URLs (signed ones
    /// expire). When `currentValidator` matches, the variants are not read and nothing is
    /// rendered; when `rendered` holds a rendering of the page's whole content (the
    /// variants' rows too), no row is decoded.
    public func page(_ query: LibraryQuery, currentValidator: String? = nil,
                     rendered: (any RenderedContent)? = nil) throws -> PageAnswer {
        // "page 1": the page's JSON format. Clients keep a page while its validator stands,
        // across deploys too: a change to what a page shows from the same rows bumps it.
        let digest = ReadDigest(context: "library page 1, URLs " + (presenter.urlGeneration(at: Date()) ?? "-"),
                                scope: query.userId)
        return try database.recordingReads(into: digest) {
            // The assets' rows are decoded only once it is clear that the page is rendered anew.
            try assets.library(query, holding: rendered != nil) { ids, page in
                let validator = "W/\"" + digest.key.fingerprintHex + "\""
                if let currentValidator, Self.matches(currentValidator, validator) { return .notModified(validator: validator) }
                guard let variants = try presenter.variants(ofAssets: ids, unlessRendered: rendered) else {
                    return .rendered(content: digest.key, validator: validator)
                }
                let (assets, next) = try page()
                return .page(items: presenter.present(assets, variants: variants), next: next, validator: validator,
                             content: digest.key)
            }
        }
    }

    /// `If-None-Match`: `*`, or a list of entity tags compared weakly (RFC 9110 §13.1.2).
    private static func matches(_ header: String, _ validator: String) -> Bool {
        let opaque = { (tag: Substring) in tag.hasPrefix("W/") ? tag.dropFirst(2) : tag }
        return header.split(separator: ",").contains { candidate in
            let trimmed = candidate.trimmingCharacters(in: .whitespaces)
            return trimmed == "*" || opaque(Substring(trimmed)) == opaque(Substring(validator))
        }
    }

    private func readyAsset(id: String, userId: String) throws -> MediaAsset {
        guard let asset = try assets.find(id: id, userId: userId), asset.status == .ready else {
            throw MediaError.notFound(.asset)
        }
        return asset
    }
}
