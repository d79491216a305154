import Foundation
import FastCGI
import Imaging
import MariaDB
import Media
import MediaAPI
import S3
import ServerLog

/// The composition root: builds the application a worker serves, every use case wired to
/// its dependencies, and the generation runner beside it.
enum Service {
    /// The application and the generation runner it feeds (started, to be stopped when
    /// the worker leaves).
    static func makeApplication(configuration: ServiceConfiguration,
                                scoreboard: Scoreboard) throws -> (Application, GenerationRunner) {
        // libvips opens at a worker's first image (ImageProcessor), with its default of one
        // thread: one worker serves one request at a time, one core each. Until then the
        // worker maps none of libvips' dependencies.
        let database = Database(configuration: configuration.database,
                                statementCacheSize: configuration.statementCacheSize)
        let origin = try Origin(configuration)
        let registry = try OwnersRegistry(contentsOf: configuration.ownersFile)
        let provider = imageProvider(configuration)
        let runner = makeRunner(configuration: configuration, provider: provider, origin: origin, registry: registry)
        let services = UseCases(configuration: configuration, database: database, origin: origin, registry: registry)
        let queue = GenerationQueue(database: database, provider: provider, attachments: services.attachments,
                                    presenter: services.presenter, limits: configuration.generationLimits,
                                    wakeRunner: { runner.wake() })

        let router = Router.media(
            library: services.library, attachments: services.attachments, generation: queue, scoreboard: scoreboard,
            checks: ["database": { databaseState(database) }],
            generationMetrics: { try? JobRepository(database: database).metrics() },
            debugEndpoints: configuration.debugEndpoints,
            rendered: configuration.renderedResponseBytes > 0
                ? RenderedResponses(capacityBytes: configuration.renderedResponseBytes) : nil)
        runner.start()
        let identity = Identity(mode: configuration.auth, jwtSecret: configuration.jwtSecret)
        let application = Application(router: router, identity: identity) {
            (database.statementsExecuted, database.serverWaitNanoseconds)
        }
        return (application, runner)
    }

    /// Where objects go and how clients fetch them, per MEDIA_ORIGIN and MEDIA_DELIVERY. One
    /// bucket client per process: its HTTP connections are reused by every request.
    struct Origin {
        let storage: any OriginStorage
        let delivery: any DeliveryAdapter
        let staging: StagingArea

        init(_ configuration: ServiceConfiguration) throws {
            staging = try StagingArea(directory: configuration.storageRoot + "/.tmp")
            storage = try Origin.storage(configuration.origin, configuration)
            let window = SigningWindow(ttlSeconds: configuration.signedURLTTLSeconds)
            switch (configuration.delivery, storage as? BucketOriginStorage) {
            case (.public, _):
                delivery = PublicDelivery(baseURL: configuration.baseURL)
            case (.signed, let bucket?):
                delivery = PresignedBucketDelivery(client: bucket.client, window: window)
            case (.signed, nil):
                delivery = SignedLocalDelivery(baseURL: configuration.baseURL, secret: configuration.signingSecret,
                                               window: window)
            }
        }

        /// The origin of that name, from the same settings whatever MEDIA_ORIGIN says
        /// (`storage copy` opens both).
        static func storage(_ name: ServiceConfiguration.Origin,
                            _ configuration: ServiceConfiguration) throws -> any OriginStorage {
            switch (name, configuration.bucket) {
            case (.local, _):
                return try LocalOriginStorage(root: configuration.storageRoot)
            case (.r2, let bucket?):
                return BucketOriginStorage(client: S3Client(configuration: bucket))
            case (.r2, nil):
                throw MissingBucketSettings()
            }
        }

        /// A bucket must answer with our keys (a local root was checked when it was made).
        static func checkReachable(_ storage: any OriginStorage) throws {
            if let bucket = storage as? BucketOriginStorage { try bucket.client.checkBucket() }
        }
    }

    struct MissingBucketSettings: Error, CustomStringConvertible {
        let description = "the bucket needs MEDIA_R2_ENDPOINT, MEDIA_R2_BUCKET, MEDIA_R2_ACCESS_KEY_ID and "
            + "MEDIA_R2_SECRET_ACCESS_KEY"
    }

    /// The use cases over one connection: a connection serves one thread.
    struct UseCases {
        let presenter: AssetPresenter
        let ingest: IngestService
        let attachments: AttachmentService
        let library: AssetLibrary

        init(configuration: ServiceConfiguration, database: Database, origin: Origin, registry: OwnersRegistry) {
            let storage = origin.storage
            presenter = AssetPresenter(variants: VariantRepository(database: database), delivery: origin.delivery)
            ingest = IngestService(database: database, storage: storage,
                                   processor: ImageProcessor(maxPixels: configuration.maxPixels,
                                                             maxMetadataBytes: configuration.maxMetadataBytes,
                                                             maxDecodeBytes: configuration.maxDecodeBytes),
                                   video: configuration.video,
                                   quota: StorageQuota(limitBytes: configuration.userQuotaBytes))
            attachments = AttachmentService(database: database, registry: registry, presenter: presenter)
            library = AssetLibrary(database: database, storage: storage, ingest: ingest, attachments: attachments,
                                   presenter: presenter, stagingDirectory: origin.staging.directory,
                                   uploadLimits: UploadLimits(imageBytes: configuration.maxUploadBytes,
                                                              videoBytes: configuration.video.limits.maxBytes))
        }
    }

    static func imageProvider(_ configuration: ServiceConfiguration) -> any ImageProvider {
        guard configuration.generationProvider == "openai" else { return ProceduralProvider() }
        return OpenAIImagesProvider(settings: .init(
            baseURL: configuration.openAIBaseURL, apiKey: configuration.openAIKey, model: configuration.openAIModel,
            timeoutSeconds: Double(configuration.openAITimeoutMilliseconds) / 1000,
            maxAttempts: configuration.openAIMaxAttempts,
            backoffSeconds: Double(configuration.openAIBackoffMilliseconds) / 1000))
    }

    /// The runner gets its own connection and its own use cases over it.
    static func makeRunner(configuration: ServiceConfiguration, provider: any ImageProvider,
                           origin: Origin, registry: OwnersRegistry) -> GenerationRunner {
        let database = Database(configuration: configuration.database,
                                statementCacheSize: configuration.statementCacheSize)
        let services = UseCases(configuration: configuration, database: database, origin: origin, registry: registry)
        return GenerationRunner(
            settings: .init(concurrency: configuration.generationConcurrency,
                            staleAfterSeconds: Double(configuration.generationStaleAfterMilliseconds) / 1000,
                            maxAttempts: configuration.generationMaxAttempts, stagingDirectory: origin.staging.directory,
                            pauseAfterSaveMilliseconds: configuration.debugEndpoints
                                ? Int(clamping: configuration.debugGenerationPauseMilliseconds) : 0),
            provider: provider, database: database, ingest: services.ingest, attachments: services.attachments)
    }

    static func databaseState(_ database: Database) -> String {
        if let error = database.ping() { return "down: \(error.message)" }
        return "up"
    }
}
