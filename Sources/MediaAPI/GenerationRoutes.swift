import Foundation
import Media

/// AI generation as jobs: `POST /media/generate` queues one (202), `GET /media/jobs/:id`
/// and `GET /media/jobs` read them back. The work happens in the runners.
package struct GenerationRoutes {
    let queue: GenerationQueue

    func register(in router: inout Router) {
        router.add("POST", "/api/media/generate", signedIn: generate)
        router.add("GET", "/api/media/jobs", signedIn: list)
        router.add("GET", "/api/media/jobs/:id", signedIn: show)
    }

    func generate(_ request: HTTPRequest, userId: String) throws -> HTTPResponse {
        let order = try Self.order(try request.jsonBody())
        let job = try queue.enqueue(order, userId: userId, requestId: request.id)
        return .json(JobRepresentation(job, resultAsset: nil), status: 202)
    }

    func show(_ request: HTTPRequest, userId: String) throws -> HTTPResponse {
        let found = try queue.job(id: request.parameter("id"), userId: userId)
        return .json(JobRepresentation(found.job, resultAsset: found.resultAsset))
    }

    func list(_ request: HTTPRequest, userId: String) throws -> HTTPResponse {
        var status: MediaJobStatus?
        if let text = request.queryValue("status"), !text.isEmpty {
            status = try HTTPRequest.enumValue(text, "status", code: "invalid_status")
        }
        let page = try queue.jobs(userId: userId, status: status, after: try request.pageCursor(),
                                  limit: try request.pageLimit(fallback: 20, maximum: 100))
        return .json(Page(items: page.jobs.map { JobRepresentation($0, resultAsset: nil) },
                          nextCursor: page.next?.token))
    }

    /// The body of `POST /media/generate`, typed; the rules are the queue's.
    package static func order(_ json: JSONBody) throws -> GenerationOrder {
        try json.requireOnly(["prompt", "negativePrompt", "type", "params", "ownerType", "ownerId", "role"])
        struct Body: Decodable {
            let prompt: String?
            let negativePrompt: String?
            let type: String?
        }
        let body = try json.decode(Body.self)
        let params = try parameters(json.object["params"])
        var target: AttachmentTarget?
        if ["ownerType", "ownerId", "role"].contains(where: { json.object[$0] != nil }) {
            guard let fields = try? AttachmentRoutes.target(json) else {
                throw APIError.unprocessable("To attach the result, send ownerType, ownerId and role (strings).",
                                             code: "incomplete_owner")
            }
            target = fields
        }
        return GenerationOrder(prompt: body.prompt, negativePrompt: body.negativePrompt, type: body.type,
                               width: params.width, height: params.height, seed: params.seed,
                               quality: params.quality, style: params.style, attachTo: target)
    }

    /// `params`: only the known keys, each of its JSON type.
    struct Parameters: Decodable {
        static let known = ["width", "height", "seed", "quality", "style"]
        var width: Int?
        var height: Int?
        var seed: UInt64?
        var quality: String?
        var style: String?
    }

    static func parameters(_ value: Any?) throws -> Parameters {
        let params: [String: Any]
        switch value {
        case nil, is NSNull: return Parameters()
        case let object as [String: Any]: params = object
        default: throw APIError.unprocessable("`params` is a JSON object.", code: "invalid_params")
        }
        if let unknown = params.keys.sorted().first(where: { !Parameters.known.contains($0) }) {
            throw APIError.unprocessable(
                "Unknown parameter `\(unknown)`; accepted: \(Parameters.known.joined(separator: ", ")).",
                code: "unknown_param")
        }
        do {
            return try JSONCoding.decoder.decode(Parameters.self, from: JSONSerialization.data(withJSONObject: params))
        } catch {
            throw APIError.unprocessable("`params` values have the wrong type (width, height, seed are whole numbers).",
                                         code: "invalid_params")
        }
    }
}

/// A job as the API shows it: the Prisma model's fields, plus the result asset once done.
struct JobRepresentation: JSONWritable {
    let job: MediaGenerationJob
    let resultAsset: PresentedAsset?

    init(_ job: MediaGenerationJob, resultAsset: PresentedAsset?) {
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
            json.key("params"); json.json(job.params?.text)
            json.key("prompt"); json.string(job.prompt)
            json.key("provider"); json.string(job.provider)
            json.key("result"); json.json(job.result?.text)
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
