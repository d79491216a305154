import Foundation
import Imaging
import MariaDB
import ServerLog

/// What the caller knows about a file besides its bytes.
public struct IngestRequest: Sendable {
    public var userId: String
    public var source: MediaSource
    public var title: String?
    public var description: String?
    public var tags: [String]?
    /// The client's name for the file: only ever used to make a slug.
    public var originalFilename: String?

    public init(userId: String, source: MediaSource, title: String? = nil, description: String? = nil,
                tags: [String]? = nil, originalFilename: String? = nil) {
        self.userId = userId
        self.source = source
        self.title = title
        self.description = description
        self.tags = tags
        self.originalFilename = originalFilename
    }
}

/// A display variant to make: its kind and how (fit inside a square, never upscaled).
public struct VariantPlan: Sendable {
    public var kind: MediaVariantKind
    public var recipe: VariantRecipe

    public static let thumbnail = VariantPlan(kind: .thumbnail, recipe: .thumbnail)
    public static let preview = VariantPlan(kind: .preview, recipe: .preview)
}

/// Rows that must commit with an ingested asset or not at all (an attach on upload).
public protocol IngestCompanion<Record> {
    associatedtype Record
    /// Wraps the final transaction (to hold a lock across it); calls `commit` once.
    func guarding<T>(_ commit: () throws -> T) throws -> T
    /// Runs inside the final transaction, after the asset's rows; throwing rolls the whole
    /// ingest back, and a `MediaError` counts as a refusal (no row remains).
    func write(alongside asset: MediaAsset) throws -> Record
}

/// The one way a file becomes a `MediaAsset`, for uploads and generated images alike:
/// detect the type from magic bytes, reserve the file's size in the user's quota, check
/// limits from the header (a video's from
/// ffprobe's description, its variants made from a poster frame), make the variants,
/// store every object, then write the variants and the `ready` asset in one transaction.
/// Any failure removes every stored object; a refused file leaves no row, a server-side
/// failure leaves the row `failed` for the record.
public struct IngestService {
    public let database: Database
    public let storage: any OriginStorage
    public let processor: ImageProcessor
    public let variants: [VariantPlan]
    public let video: VideoIngest
    public let quota: StorageQuota

    public init(database: Database, storage: any OriginStorage, processor: ImageProcessor,
                variants: [VariantPlan] = [.thumbnail, .preview], video: VideoIngest = VideoIngest(),
                quota: StorageQuota = .off) {
        self.database = database
        self.storage = storage
        self.processor = processor
        self.variants = variants
        self.video = video
        self.quota = quota
    }

    public func ingest(_ file: StagedFile, _ request: IngestRequest) throws -> (MediaAsset, [MediaVariant]) {
        let (asset, variants, _) = try ingest(file, request, with: NoCompanion())
        return (asset, variants)
    }

    /// Ingests and commits `companion`'s rows in the same transaction.
    public func ingest<Companion: IngestCompanion>(_ file: StagedFile, _ request: IngestRequest,
                                                   with companion: Companion)
    throws -> (MediaAsset, [MediaVariant], Companion.Record) {
        try file.finish()
        guard file.byteCount > 0 else { throw IngestError.empty }
        let content: AcceptedContent
        switch file.sniffedType ?? .unsupported("unknown") {
        case .image(let format): content = .image(format)
        case .video(let container):
            // A provider's output is an image or nothing: never a video to run tools on.
            guard request.source == .upload else { throw IngestError.unsupportedType("\(container.rawValue) from a generator") }
            content = .video(container)
        case .unsupported(let what): throw IngestError.unsupportedType(what)
        }
        let kind = content.kind

        let assets = AssetRepository(database: database)
        let now = Date.databaseNow
        let assetId = MediaID.generate()
        let fallbackName = request.source == .generated ? "generated" : kind.type.rawValue
        let slug = StorageKey.slug(from: request.originalFilename, fallback: fallbackName, extension: kind.fileExtension)
        let originalKey = StorageKey(userId: request.userId, assetId: assetId, kind: .original, filename: slug)
        var asset = MediaAsset(
            id: assetId, userId: request.userId, type: kind.type, mimeType: kind.mimeType, title: request.title,
            description: request.description, tags: request.tags, sizeBytes: file.byteCount,
            storageKey: originalKey.description, storageProvider: storage.provider, checksum: file.sha256,
            status: .pending, source: request.source, createdAt: now, updatedAt: now)
        // Before anything is stored: the pending row reserves the file's bytes in the quota.
        try quota.reserve(asset, in: database)

        do {
            try assets.updateStatus(id: assetId, to: .processing)
            let made: [(MediaVariantKind, EncodedVariant)]
            switch content {
            case .image(let format):
                let header = try imaging { try processor.inspect(path: file.path, format: format) }
                (asset.width, asset.height) = (header.uprightWidth, header.uprightHeight)
                made = try variants.map { plan in
                    (plan.kind, try imaging {
                        try processor.makeVariant(from: file.path, header: header, maxSide: plan.recipe.maxSide,
                                                  quality: plan.recipe.quality)
                    })
                }
            case .video(let container):
                let processed = try video.process(file, container: container, processor: processor)
                let analysis = processed.analysis
                (asset.width, asset.height, asset.durationMs) = (analysis.width, analysis.height, analysis.durationMs)
                asset.metadata = AssetMetadata(video: VideoMetadata(
                    codec: analysis.videoCodec, frameRate: analysis.frameRate, hasAudio: analysis.hasAudio,
                    audioCodec: analysis.audioCodec, bitRate: analysis.bitRate, rotation: analysis.rotation))
                made = processed.variants
            }

            var records: [MediaVariant] = []
            var writes: [@Sendable () throws -> Void] = []
            let stem = (slug as NSString).deletingPathExtension
            for (variantKind, encoded) in made {
                let key = StorageKey(userId: request.userId, assetId: assetId, kind: variantKind,
                                     filename: stem + "." + encoded.format.fileExtension)
                writes.append { [storage] in try storage.store(bytes: encoded.bytes, key: key, contentType: encoded.format.mimeType) }
                records.append(MediaVariant(id: MediaID.generate(), assetId: assetId, kind: variantKind,
                                            format: encoded.format.rawValue,
                                            width: encoded.width, height: encoded.height,
                                            sizeBytes: Int64(encoded.bytes.count), storageKey: key.description,
                                            createdAt: now))
            }
            let (path, sha256, mimeType) = (file.path, file.sha256, kind.mimeType)
            writes.append { [storage] in try storage.moveFile(at: path, to: originalKey, contentType: mimeType, sha256: sha256) }
            try Self.storeAtOnce(writes)
            records.insert(MediaVariant(id: MediaID.generate(), assetId: assetId, kind: .original,
                                        format: kind.format, width: asset.width, height: asset.height,
                                        sizeBytes: file.byteCount, storageKey: originalKey.description,
                                        createdAt: now), at: 0)
            asset.status = .ready
            asset.updatedAt = .databaseNow
            let ready = asset
            let companionRecord = try companion.guarding {
                try database.inTransaction {
                    try VariantRepository(database: database).insert(records)
                    try assets.markReady(ready, at: ready.updatedAt)
                    return try companion.write(alongside: ready)
                }
            }
            return (asset, records, companionRecord)
        } catch {
            abandon(asset, because: error)
            throw error
        }
    }

    /// Every object of one asset written at once: a bucket answers each PUT after a round
    /// trip, and the original (the largest) need not wait for the variants. The first
    /// error wins; `abandon` then removes whatever was stored.
    private static func storeAtOnce(_ writes: [@Sendable () throws -> Void]) throws {
        let results = ConcurrentResults<Void>(count: writes.count)
        DispatchQueue.concurrentPerform(iterations: writes.count) { index in
            results.set(index, Result { try writes[index]() })
        }
        _ = try results.values()
    }

    /// Runs a libvips step, turning its errors into the client-facing kind.
    private func imaging<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ImagingError {
            switch error {
            case .unsupportedFormat(let what): throw IngestError.unsupportedType(what)
            case .tooManyPixels, .decodeTooLarge, .metadataTooLarge, .corrupt: throw IngestError.rejectedImage(error)
            case .invalidDimensions, .processingFailed: throw error
            }
        }
    }

    private func abandon(_ asset: MediaAsset, because error: Error) {
        do {
            try storage.deleteAsset(userId: asset.userId, assetId: asset.id)
        } catch {
            Log.error("ingest.cleanup_failed", ["assetId": .string(asset.id), "error": .string("\(error)")])
        }
        let assets = AssetRepository(database: database)
        do {
            // A refusal the client was told about (a full disk too) leaves nothing; only an
            // unexplained failure keeps its row, as `failed`, for whoever investigates.
            if error is IngestError || MediaError(classifying: error) != nil {
                try assets.delete(id: asset.id)
            } else {
                try assets.updateStatus(id: asset.id, to: .failed)
                Log.error("ingest.failed", ["assetId": .string(asset.id), "error": .string("\(error)")])
            }
        } catch {
            Log.error("ingest.cleanup_failed", ["assetId": .string(asset.id), "error": .string("\(error)")])
        }
    }
}

/// A sniffed type ingest takes.
private enum AcceptedContent {
    case image(ImageFormat)
    case video(VideoContainer)

    /// What the asset and its original variant record: the type, the MIME type, the file
    /// name's extension and the variant's `format`.
    var kind: (type: MediaType, mimeType: String, fileExtension: String, format: String) {
        switch self {
        case .image(let format): (.image, format.mimeType, format.fileExtension, format.rawValue)
        case .video(let container): (.video, container.mimeType, container.fileExtension, container.rawValue)
        }
    }
}

/// No rows beside the asset's own.
private struct NoCompanion: IngestCompanion {
    func guarding<T>(_ commit: () throws -> T) throws -> T { try commit() }
    func write(alongside asset: MediaAsset) {}
}
