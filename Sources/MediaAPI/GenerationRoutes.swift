import Foundation
import MariaDB
import Media
import ServerLog

/// AI generation as jobs: `POST /media/generate` queues one (202), `GET /media/jobs/:id`
/// and `GET /media/jobs` read them back. The work happens in the runners.
struct GenerationRoutes {
    let identity: Identity
    let database: Database
    let provider: any ImageProvider
    let attachments: AttachmentService
    let presenter: AssetPresenter
    /// Wakes this worker's runner when a job is queued.
    let wakeRunner: () -> Void

    static let maxPromptCharacters = 4000
    static let qualities = ["standard", "hd", "low", "medium", "high", "auto"]
    static let styles = ["vivid", "natural"]

    func register(in router: inout Router) {
        router.add("POST", "/api/media/generate", generate)
        router.add("GET", "/api/media/jobs", list)
        router.add("GET", "/api/media/jobs/:id", show)
    }

    var jobs: JobRepository { JobRepository(database: database) }

    func generate(_ request: HTTPRequest) throws -> HTTPResponse {
        let userId = try identity.userId(of: request)
        let json = try request.jsonBody()
        try json.requireOnly(["prompt", "negativePrompt", "type", "params", "ownerType", "ownerId", "role"])
        struct Body: Decodable {
            let prompt: String?
            let negativePrompt: String?
            let type: String?
        }
        let body = try json.decode(Body.self)
        switch body.type ?? "image" {
        case "image": break
        case "video":
            throw APIError.unprocessable("Video generation is not supported; only `type: \"image\"` can be generated.",
                                         code: "unsupported_generation_type")
        default:
            throw APIError.unprocessable("`type` is \"image\".", code: "invalid_type")
        }
        let prompt = (body.prompt ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...Self.maxPromptCharacters).contains(prompt.count) else {
            throw APIError.unprocessable("`prompt` is 1 to \(Self.maxPromptCharacters) characters.", code: "invalid_prompt")
        }
        if let negative = body.negativePrompt, negative.count > Self.maxPromptCharacters {
            throw APIError.unprocessable("`negativePrompt` is at most \(Self.maxPromptCharacters) characters.",
                                         code: "invalid_prompt")
        }
        var parameters = try Self.parameters(json.object["params"])
        let ownerFields = ["ownerType", "ownerId", "role"].map { json.object[$0] }
        if ownerFields.contains(where: { $0 != nil }) {
            guard let target = try? json.decode(AttachmentTarget.self) else {
                throw APIError.unprocessable("To attach the result, send ownerType, ownerId and role (strings).",
                                             code: "incomplete_owner")
            }
            try AttachmentRoutes.mapFailures {
                try attachments.requireOwner(target.ownerType, id: target.ownerId, userId: userId)
            }
            parameters.attach = .init(ownerType: target.ownerType, ownerId: target.ownerId, role: target.role)
        }
        let now = Date.databaseNow
        let job = MediaGenerationJob(
            id: MediaID.generate(), userId: userId, type: .image, prompt: prompt,
            negativePrompt: body.negativePrompt.flatMap { $0.isEmpty ? nil : $0 }, params: parameters.json,
            provider: provider.name, model: provider.model, status: .queued, createdAt: now, updatedAt: now)
        try jobs.insert(job)
        Log.info("job.state", ["jobId": .string(job.id), "status": "queued", "provider": .string(provider.name),
                               "userId": .string(userId), "requestId": .string(request.id)])
        wakeRunner()
        return .json(JobRepresentation(job, resultAsset: nil), status: 202)
    }

    func show(_ request: HTTPRequest) throws -> HTTPResponse {
        let userId = try identity.userId(of: request)
        guard let job = try jobs.find(id: request.parameter("id"), userId: userId) else {
            throw APIError.notFound("No such job.")
        }
        let asset = try job.resultAssetId.flatMap { try AssetRepository(database: database).find(id: $0, userId: userId) }
        return .json(JobRepresentation(job, resultAsset: try asset.map(presenter.present)))
    }

    func list(_ request: HTTPRequest) throws -> HTTPResponse {
        let userId = try identity.userId(of: request)
        var status: MediaJobStatus?
        if let text = request.queryValue("status"), !text.isEmpty {
            status = try HTTPRequest.enumValue(text, "status", code: "invalid_status")
        }
        let page = try jobs.jobs(userId: userId, status: status, after: try request.pageCursor(),
                                 limit: try request.pageLimit(fallback: 20, maximum: 100))
        return .json(Page(items: page.jobs.map { JobRepresentation($0, resultAsset: nil) },
                              nextCursor: page.next?.token))
    }

    /// `params`: only the known keys; a size from the allowed list.
    static func parameters(_ value: Any?) throws -> GenerationParameters {
        let params: [String: Any]
        switch value {
        case nil, is NSNull: params = [:]
        case let object as [String: Any]: params = object
        default: throw APIError.unprocessable("`params` is a JSON object.", code: "invalid_params")
        }
        let known = ["width", "height", "seed", "quality", "style"]
        if let unknown = params.keys.sorted().first(where: { !known.contains($0) }) {
            throw APIError.unprocessable("Unknown parameter `\(unknown)`; accepted: \(known.joined(separator: ", ")).",
                                         code: "unknown_param")
        }
        struct Typed: Decodable {
            let width: Int?
            let height: Int?
            let seed: UInt64?
            let quality: String?
            let style: String?
        }
        let typed: Typed
        do {
            typed = try JSONCoding.decoder.decode(Typed.self, from: JSONSerialization.data(withJSONObject: params))
        } catch {
            throw APIError.unprocessable("`params` values have the wrong type (width, height, seed are whole numbers).",
                                         code: "invalid_params")
        }
        let width = typed.width ?? GenerationParameters.defaultSize.width
        let height = typed.height ?? (typed.width == nil ? GenerationParameters.defaultSize.height : width)
        guard GenerationParameters.isAllowed(width: width, height: height) else {
            let sizes = GenerationParameters.allowedSizes.map { "\($0.width)x\($0.height)" }.joined(separator: ", ")
            throw APIError.unprocessable("Size \(width)x\(height) is not offered; one of: \(sizes).", code: "invalid_size")
        }
        if let quality = typed.quality, !qualities.contains(quality) {
            throw APIError.unprocessable("`quality` is one of: \(qualities.joined(separator: ", ")).", code: "invalid_params")
        }
        if let style = typed.style, !styles.contains(style) {
            throw APIError.unprocessable("`style` is one of: \(styles.joined(separator: ", ")).", code: "invalid_params")
        }
        let seed = typed.seed ?? UInt64.random(in: 0...(1 << 53))
        guard seed <= 1 << 53 else {
            throw APIError.unprocessable("`seed` is at most 2^53 (JSON-safe).", code: "invalid_params")
        }
        return GenerationParameters(width: width, height: height, seed: seed, quality: typed.quality, style: typed.style)
    }
}

/// A job as the API shows it: the Prisma model's fields, plus the result asset once done.
struct JobRepresentation: JSONWritable {
    let job: MediaGenerationJob
    let resultAsset: AssetRepresentation?

    init(_ job: MediaGenerationJob, resultAsset: AssetRepresentation?) {
        self.job = job
        self.resultAsset = resultAsset
    }

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("attempts"); json.number(job.attempts)
            json.key("completedAt"); json.date(job.completedAt)
            json.key("createdAt"); json.date(job.createdAt)
            json.key("error"); json.string(job.error)
            json.key("id"); json.string(job.id)
            json.key("model"); json.string(job.model)
            json.key("negativePrompt"); json.string(job.negativePrompt)
            json.key("params"); json.json(job.params)
            json.key("prompt"); json.string(job.prompt)
            json.key("provider"); json.string(job.provider)
            json.key("result"); json.json(job.result)
            json.key("resultAsset"); json.value(resultAsset)
            json.key("resultAssetId"); json.string(job.resultAssetId)
            json.key("startedAt"); json.date(job.startedAt)
            json.key("status"); json.string(job.status.rawValue)
            json.key("type"); json.string(job.type.rawValue)
            json.key("updatedAt"); json.date(job.updatedAt)
            json.key("userId"); json.string(job.userId)
        }
    }
}
