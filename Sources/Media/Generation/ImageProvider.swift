import Foundation

/// One image to generate, as a provider sees it.
public struct GenerationRequest: Sendable {
    public var jobId: String
    public var prompt: String
    public var negativePrompt: String?
    public var parameters: GenerationParameters

    public init(jobId: String, prompt: String, negativePrompt: String?, parameters: GenerationParameters) {
        self.jobId = jobId
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.parameters = parameters
    }
}

/// What the provider said about the image besides its bytes, kept on the job.
public struct ProviderFacts: Codable, Sendable, Equatable {
    public var requestId: String?
    public var revisedPrompt: String?
    public var seed: UInt64?
    public var usage: AnyJSON?
    /// Time spent waiting for the provider, retries included.
    public var latencyMs: Int
    public var attempts: Int

    public init(requestId: String? = nil, revisedPrompt: String? = nil, seed: UInt64? = nil, usage: AnyJSON? = nil,
                latencyMs: Int, attempts: Int = 1) {
        self.requestId = requestId
        self.revisedPrompt = revisedPrompt
        self.seed = seed
        self.usage = usage
        self.latencyMs = latencyMs
        self.attempts = attempts
    }
}

public struct GeneratedImage: Sendable {
    public var bytes: [UInt8]
    public var facts: ProviderFacts

    public init(bytes: [UInt8], facts: ProviderFacts) {
        self.bytes = bytes
        self.facts = facts
    }
}

/// Why a generation failed. `outcome` is the metrics label; `message` goes on the job.
public struct ProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Outcome: String, Sendable {
        /// Content policy / moderation: the prompt was refused.
        case refused
        /// 401/403, quota: nothing will change by retrying.
        case rejected
        /// 429/5xx/connection failures/timeouts, after the bounded retries.
        case unavailable
        /// A 2xx without a usable image.
        case invalidOutput = "invalid_output"
    }

    public let outcome: Outcome
    public let message: String

    public init(_ outcome: Outcome, _ message: String) {
        self.outcome = outcome
        self.message = message
    }

    public var description: String { "\(outcome.rawValue): \(message)" }
}

/// An image generator behind one protocol, selected by MEDIA_GENERATION_PROVIDER.
/// `heartbeat` must be called at least every few seconds while waiting, so the job's
/// lease stays fresh.
public protocol ImageProvider: Sendable {
    var name: String { get }
    var model: String? { get }
    func generate(_ request: GenerationRequest, heartbeat: () -> Void) throws -> GeneratedImage
}
