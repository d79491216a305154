import FastCGI
import Media

extension Router {
    /// Every route of the API, each resource's handlers over its use case, and the
    /// operations routes (`_ping`, `_status`, and `_debug` when enabled). `rendered` keeps
    /// the library pages and owner media this worker rendered (nil: none are kept).
    public static func media(library: AssetLibrary, attachments: AttachmentService, generation: GenerationQueue,
                             scoreboard: Scoreboard, checks: [String: () -> String],
                             generationMetrics: @escaping () -> [JobRepository.ProviderMetric]?,
                             debugEndpoints: Bool, rendered: RenderedResponses?) -> Router {
        var router = Router()
        OperationsRoutes(scoreboard: scoreboard, checks: checks, generationMetrics: generationMetrics)
            .register(in: &router, debugEndpoints: debugEndpoints)
        MediaRoutes(library: library, rendered: rendered).register(in: &router)
        AttachmentRoutes(attachments: attachments, rendered: rendered).register(in: &router)
        GenerationRoutes(queue: generation).register(in: &router)
        return router
    }
}
