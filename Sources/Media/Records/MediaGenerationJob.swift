import Foundation
import MariaDB

/// An asynchronous, auditable AI generation (table `MediaGenerationJob`).
public struct MediaGenerationJob: Codable, Sendable, Equatable {
    public var id: String
    public var userId: String
    public var type: MediaType
    public var prompt: String
    public var negativePrompt: String?
    public var params: JSONText?
    public var provider: String
    public var model: String?
    public var status: MediaJobStatus
    public var error: String?
    public var attempts: Int
    /// Provider facts (request id, revised prompt, seed, usage), like Replicate's prediction.
    public var result: JSONText?
    public var resultAssetId: String?
    public var startedAt: Date?
    public var completedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, userId: String, type: MediaType, prompt: String, negativePrompt: String?,
                params: JSONText?, provider: String, model: String?, status: MediaJobStatus, error: String? = nil,
                attempts: Int = 0, result: JSONText? = nil, resultAssetId: String? = nil, startedAt: Date? = nil,
                completedAt: Date? = nil, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.userId = userId
        self.type = type
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.params = params
        self.provider = provider
        self.model = model
        self.status = status
        self.error = error
        self.attempts = attempts
        self.result = result
        self.resultAssetId = resultAssetId
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    static let columns = """
        `id`, `userId`, `type`, `prompt`, `negativePrompt`, `params`, `provider`, `model`, `status`, `error`, \
        `attempts`, `result`, `resultAssetId`, `startedAt`, `completedAt`, `createdAt`, `updatedAt`
        """

    init(row: Row) throws {
        id = try row.get("id")
        userId = try row.get("userId")
        type = try row.enumValue("type")
        prompt = try row.get("prompt")
        negativePrompt = try row.get("negativePrompt")
        params = try row.get("params")
        provider = try row.get("provider")
        model = try row.get("model")
        status = try row.enumValue("status")
        error = try row.get("error")
        attempts = try row.get("attempts")
        result = try row.get("result")
        resultAssetId = try row.get("resultAssetId")
        startedAt = try row.get("startedAt")
        completedAt = try row.get("completedAt")
        createdAt = try row.get("createdAt")
        updatedAt = try row.get("updatedAt")
    }
}
