import Foundation
import Imaging

/// The offline development provider: renders an image from the prompt, seed and size
/// with libvips, deterministically, so the whole generation flow works without network.
/// Not an AI model: a stand-in for local development, tests and benchmarks.
public struct ProceduralProvider: ImageProvider {
    public let name = "procedural"
    public let model: String? = "procedural-v1"

    public init() {}

    public func generate(_ request: GenerationRequest, heartbeat: () -> Void) throws -> GeneratedImage {
        let started = DispatchTime.now().uptimeNanoseconds
        let parameters = request.parameters
        let bytes = try ProceduralImage.render(prompt: request.prompt, seed: parameters.seed,
                                               width: parameters.width, height: parameters.height)
        let elapsed = Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
        return GeneratedImage(bytes: bytes, facts: ProviderFacts(requestId: "procedural-\(request.jobId)",
                                                                 seed: parameters.seed, latencyMs: elapsed))
    }
}
