import Foundation
import FastCGI
import Imaging
import MariaDB
import Media
import ServerLog

/// Builds the application a worker serves: every route, wired to its dependencies.
public enum Service {
    /// The application and the generation runner it feeds (started, to be stopped when
    /// the worker leaves).
    public static func makeApplication(configuration: ServiceConfiguration, scoreboard: Scoreboard,
                                       database: Database) throws -> (Application, GenerationRunner) {
        // One worker serves one request at a time: one libvips thread keeps the pool's
        // CPU use to one core per worker.
        try Vips.initialize(concurrency: 1)
        let storage = try LocalOriginStorage(root: configuration.storageRoot)
        let delivery = PublicDelivery(baseURL: configuration.baseURL)
        let identity = Identity(mode: configuration.auth, jwtSecret: configuration.jwtSecret)
        let ingest = IngestService(database: database, storage: storage,
                                   processor: ImageProcessor(maxPixels: configuration.maxPixels))
        let registry = try OwnersRegistry(contentsOf: configuration.ownersFile)
        let attachments = AttachmentService(database: database, registry: registry)
        let presenter = AssetPresenter(variants: VariantRepository(database: database), delivery: delivery)
        let provider = imageProvider(configuration)
        let runner = makeRunner(configuration: configuration, provider: provider, storage: storage, registry: registry)
        var router = Router()
        OperationsRoutes(scoreboard: scoreboard, checks: ["database": { databaseState(database) }],
                         generationMetrics: { try? JobRepository(database: database).metrics() })
            .register(in: &router, debugEndpoints: configuration.debugEndpoints)
        MediaRoutes(identity: identity, database: database, storage: storage, ingest: ingest, attachments: attachments,
                    presenter: presenter, temporaryDirectory: storage.temporaryDirectory,
                    maxUploadBytes: configuration.maxUploadBytes)
            .register(in: &router)
        AttachmentRoutes(identity: identity, database: database, service: attachments, presenter: presenter)
            .register(in: &router)
        GenerationRoutes(identity: identity, database: database, provider: provider, attachments: attachments,
                         presenter: presenter, wakeRunner: { runner.wake() })
            .register(in: &router)
        runner.start()
        return (Application(router: router, statementsExecuted: { database.statementsExecuted }), runner)
    }

    static func imageProvider(_ configuration: ServiceConfiguration) -> any ImageProvider {
        guard configuration.generationProvider == "openai" else { return ProceduralProvider() }
        return OpenAIImagesProvider(settings: .init(
            baseURL: configuration.openAIBaseURL, apiKey: configuration.openAIKey, model: configuration.openAIModel,
            timeoutSeconds: Double(configuration.openAITimeoutMilliseconds) / 1000,
            maxAttempts: configuration.openAIMaxAttempts,
            backoffSeconds: Double(configuration.openAIBackoffMilliseconds) / 1000))
    }

    /// The runner gets its own connection: a connection serves one thread.
    static func makeRunner(configuration: ServiceConfiguration, provider: any ImageProvider,
                           storage: LocalOriginStorage, registry: OwnersRegistry) -> GenerationRunner {
        let database = Database(configuration: configuration.database)
        let ingest = IngestService(database: database, storage: storage,
                                   processor: ImageProcessor(maxPixels: configuration.maxPixels))
        return GenerationRunner(
            settings: .init(concurrency: configuration.generationConcurrency,
                            staleAfterSeconds: Double(configuration.generationStaleAfterMilliseconds) / 1000,
                            maxAttempts: configuration.generationMaxAttempts, stagingDirectory: storage.temporaryDirectory,
                            pauseAfterSaveMilliseconds: configuration.debugEndpoints
                                ? Int(configuration.debugGenerationPauseMilliseconds) : 0),
            provider: provider, database: database, ingest: ingest,
            attachments: AttachmentService(database: database, registry: registry))
    }

    static func databaseState(_ database: Database) -> String {
        if let error = database.ping() { return "down: \(error.message)" }
        return "up"
    }
}
