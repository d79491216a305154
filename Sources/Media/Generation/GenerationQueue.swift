import Foundation
import MariaDB
import ServerLog

/// A generation as a client orders it, before validation.
public struct GenerationOrder: Sendable {
    public var prompt: String?
    public var negativePrompt: String?
    /// `image` (the default); `video` is refused as not supported yet.
    public var type: String?
    public var width: Int?
    public var height: Int?
    public var seed: UInt64?
    public var quality: String?
    public var style: String?
    /// Where to attach the result once it is in the library.
    public var attachTo: AttachmentTarget?

    public init(prompt: String?, negativePrompt: String?, type: String?, width: Int?, height: Int?, seed: UInt64?,
                quality: String?, style: String?, attachTo: AttachmentTarget?) {
        (self.prompt, self.negativePrompt, self.type) = (prompt, negativePrompt, type)
        (self.width, self.height, self.seed, self.quality, self.style) = (width, height, seed, quality, style)
        self.attachTo = attachTo
    }
}

/// A job with its result asset once there is one.
public struct PresentedJob: Sendable {
    public let job: MediaGenerationJob
    public let resultAsset: PresentedAsset?
}

/// AI generation as jobs: enqueue (the runners do the work), show one, list a user's.
public struct GenerationQueue {
    public static let maxPromptCharacters = 4000

    let database: Database
    let provider: any ImageProvider
    let attachments: AttachmentService
    let presenter: AssetPresenter
    let limits: GenerationLimits
    /// Wakes this worker's runner when a job is queued.
    let wakeRunner: @Sendable () -> Void

    public init(database: Database, provider: any ImageProvider, attachments: AttachmentService,
                presenter: AssetPresenter, limits: GenerationLimits = GenerationLimits(),
                wakeRunner: @escaping @Sendable () -> Void) {
        self.database = database
        self.provider = provider
        self.attachments = attachments
        self.presenter = presenter
        self.limits = limits
        self.wakeRunner = wakeRunner
    }

    var jobs: JobRepository { JobRepository(database: database) }

    /// Validates the order, checks the attach target's owner, and queues the job within the
    /// user's generation limits.
    public func enqueue(_ order: GenerationOrder, userId: String, requestId: String) throws -> MediaGenerationJob {
        switch order.type ?? "image" {
        case "image": break
        case "video":
            throw MediaError.invalid(code: "unsupported_generation_type",
                                     message: "Video generation is not supported; only `type: \"image\"` can be generated.")
        default:
            throw MediaError.invalid(code: "invalid_type", message: "`type` is \"image\".")
        }
        let prompt = (order.prompt ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...Self.maxPromptCharacters).contains(prompt.count) else {
            throw MediaError.invalid(code: "invalid_prompt", message: "`prompt` is 1 to \(Self.maxPromptCharacters) characters.")
        }
        if let negative = order.negativePrompt, negative.count > Self.maxPromptCharacters {
            throw MediaError.invalid(code: "invalid_prompt",
                                     message: "`negativePrompt` is at most \(Self.maxPromptCharacters) characters.")
        }
        var parameters = try GenerationParameters.validated(width: order.width, height: order.height, seed: order.seed,
                                                            quality: order.quality, style: order.style)
        if let target = order.attachTo {
            try attachments.requireOwner(target.ownerType, id: target.ownerId, userId: userId)
            parameters.attach = target
        }
        let now = Date.databaseNow
        let job = MediaGenerationJob(
            id: MediaID.generate(), userId: userId, type: .image, prompt: prompt,
            negativePrompt: order.negativePrompt.flatMap { $0.isEmpty ? nil : $0 }, params: parameters.json,
            provider: provider.name, model: provider.model, status: .queued, createdAt: now, updatedAt: now)
        try limits.admit(job, in: database)
        Log.info("job.state", ["jobId": .string(job.id), "status": "queued", "provider": .string(provider.name),
                               "userId": .string(userId), "requestId": .string(requestId)])
        wakeRunner()
        return job
    }

    public func job(id: String, userId: String) throws -> PresentedJob {
        guard let job = try jobs.find(id: id, userId: userId) else { throw MediaError.notFound(.job) }
        let asset = try job.resultAssetId.flatMap { try AssetRepository(database: database).find(id: $0, userId: userId) }
        return PresentedJob(job: job, resultAsset: try asset.map(presenter.present))
    }

    /// The user's jobs, newest first, keyset-paginated like the library.
    public func jobs(userId: String, status: MediaJobStatus?, after cursor: LibraryCursor?,
                     limit: Int) throws -> (jobs: [MediaGenerationJob], next: LibraryCursor?) {
        try jobs.jobs(userId: userId, status: status, after: cursor, limit: limit)
    }
}
