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

    enum Column: String, CaseIterable {
        case id, userId, type, prompt, negativePrompt, params, provider, model, status, error, attempts, result
        case resultAssetId, startedAt, completedAt, createdAt, updatedAt
    }
}

extension MediaGenerationJob: TableRecord {
    static let table = "MediaGenerationJob"
    static let selection = columnList()

    init(row: RowCursor) throws {
        var reader = RecordReader<Column>(row)
        id = try reader.next(.id)
        userId = try reader.next(.userId)
        type = try reader.next(.type)
        prompt = try reader.next(.prompt)
        negativePrompt = try reader.next(.negativePrompt)
        params = try reader.next(.params)
        provider = try reader.next(.provider)
        model = try reader.next(.model)
        status = try reader.next(.status)
        error = try reader.next(.error)
        attempts = try reader.next(.attempts)
        result = try reader.next(.result)
        resultAssetId = try reader.next(.resultAssetId)
        startedAt = try reader.next(.startedAt)
        completedAt = try reader.next(.completedAt)
        createdAt = try reader.next(.createdAt)
        updatedAt = try reader.next(.updatedAt)
    }

    func value(of column: Column) -> any DatabaseValueConvertible {
        switch column {
        case .id: return id
        case .userId: return userId
        case .type: return type
        case .prompt: return prompt
        case .negativePrompt: return negativePrompt
        case .params: return params
        case .provider: return provider
        case .model: return model
        case .status: return status
        case .error: return error
        case .attempts: return attempts
        case .result: return result
        case .resultAssetId: return resultAssetId
        case .startedAt: return startedAt
        case .completedAt: return completedAt
        case .createdAt: return createdAt
        case .updatedAt: return updatedAt
        }
    }
}
