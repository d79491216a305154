import Foundation
import FastCGI
import Imaging
import MariaDB
import Media
import ServerLog

/// Builds the application a worker serves: every route, wired to its dependencies.
public enum Service {
    public static func makeApplication(configuration: ServiceConfiguration, scoreboard: Scoreboard,
                                       database: Database) throws -> Application {
        // One worker serves one request at a time: one libvips thread keeps the pool's
        // CPU use to one core per worker.
        try Vips.initialize(concurrency: 1)
        let storage = try LocalOriginStorage(root: configuration.storageRoot)
        let delivery = PublicDelivery(baseURL: configuration.baseURL)
        let identity = Identity(mode: configuration.auth, jwtSecret: configuration.jwtSecret)
        let ingest = IngestService(database: database, storage: storage,
                                   processor: ImageProcessor(maxPixels: configuration.maxPixels))
        let attachments = AttachmentService(database: database,
                                            registry: try OwnersRegistry(contentsOf: configuration.ownersFile))
        let presenter = AssetPresenter(variants: VariantRepository(database: database), delivery: delivery)
        var router = Router()
        OperationsRoutes(scoreboard: scoreboard, checks: ["database": { databaseState(database) }])
            .register(in: &router, debugEndpoints: configuration.debugEndpoints)
        MediaRoutes(identity: identity, database: database, storage: storage, ingest: ingest, attachments: attachments,
                    presenter: presenter, temporaryDirectory: storage.temporaryDirectory,
                    maxUploadBytes: configuration.maxUploadBytes)
            .register(in: &router)
        AttachmentRoutes(identity: identity, database: database, service: attachments, presenter: presenter)
            .register(in: &router)
        return Application(router: router, statementsExecuted: { database.statementsExecuted })
    }

    static func databaseState(_ database: Database) -> String {
        if let error = database.ping() { return "down: \(error.message)" }
        return "up"
    }
}
