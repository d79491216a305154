import FastCGI
import Foundation
import Imaging
import MariaDB
import Media
import MediaAPI
import TestSupport
import XCTest

/// The router and the contract (Sources/MediaAPI/openapi.yaml) list the same operations.
/// The router is the one the service runs (`Router.media`), over use cases whose database
/// is never reached: only the registered routes are read.
final class OpenAPIContractTests: XCTestCase {
    func router(debugEndpoints: Bool) throws -> Router {
        let database = Database(configuration: try ConnectionConfiguration(url: "mysql://nobody:none@127.0.0.1:1/media"))
        let storage = try LocalOriginStorage(root: NSTemporaryDirectory() + "contract-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(atPath: storage.root) }
        let registry = try OwnersRegistry(
            contentsOf: TestEnvironment.repository.appendingPathComponent("prisma-compat/owners.json").path)
        let presenter = AssetPresenter(variants: VariantRepository(database: database),
                                       delivery: PublicDelivery(baseURL: "/uploads"))
        let attachments = AttachmentService(database: database, registry: registry, presenter: presenter)
        let library = AssetLibrary(
            database: database, storage: storage,
            ingest: IngestService(database: database, storage: storage, processor: ImageProcessor(maxPixels: 1)),
            attachments: attachments, presenter: presenter, stagingDirectory: storage.temporaryDirectory,
            uploadLimits: UploadLimits(imageBytes: 1, videoBytes: 1))
        let queue = GenerationQueue(database: database, provider: ProceduralProvider(), attachments: attachments,
                                    presenter: presenter, wakeRunner: {})
        return Router.media(library: library, attachments: attachments, generation: queue,
                            scoreboard: try Scoreboard(poolSize: 1), checks: [:], generationMetrics: { nil },
                            debugEndpoints: debugEndpoints, rendered: nil)
    }

    /// The rendered contract, as nginx serves it.
    func contract() throws -> [String: Any] {
        let script = TestEnvironment.repository.appendingPathComponent("scripts/openapi-json").path
        let output = try runProcess("/usr/bin/python3", [script])
        XCTAssertEqual(output.status, 0, output.text)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.text.utf8)) as? [String: Any])
    }

    static let methods = ["get", "put", "post", "delete", "patch", "head", "options"]

    /// `GET /api/media/{id}` for every operation of the contract, split by who answers it.
    func contractOperations() throws -> (service: Set<String>, nginx: Set<String>) {
        let paths = try XCTUnwrap(try contract()["paths"] as? [String: [String: Any]])
        var service = Set<String>(), nginx = Set<String>()
        for (path, item) in paths {
            for method in Self.methods where item[method] != nil {
                let operation = "\(method.uppercased()) \(path)"
                if item["x-served-by"] as? String == "nginx" { nginx.insert(operation) } else { service.insert(operation) }
            }
        }
        return (service, nginx)
    }

    /// `/api/media/:id` as OpenAPI spells it: `/api/media/{id}`.
    func operations(of router: Router) -> Set<String> {
        Set(router.registeredRoutes.map { route in
            let path = route.path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            return "\(route.method) /" + path.joined(separator: "/")
        })
    }

    func testEveryRouteIsInTheContractAndEveryOperationIsARoute() throws {
        let routes = operations(of: try router(debugEndpoints: false))
        let (service, nginx) = try contractOperations()
        XCTAssertGreaterThan(routes.count, 10, "the router's routes were read")
        XCTAssertEqual(routes.subtracting(service).sorted(), [], "routes missing from Sources/MediaAPI/openapi.yaml")
        XCTAssertEqual(service.subtracting(routes).sorted(), [], "operations in openapi.yaml that no route serves")
        XCTAssertEqual(routes.intersection(nginx).sorted(), [], "operations marked x-served-by: nginx that a route serves")
    }

    /// What nginx answers itself is a location of the drop-in config, not a route.
    func testOperationsServedByNginxHaveTheirLocation() throws {
        let conf = try String(contentsOf: TestEnvironment.repository.appendingPathComponent("nginx/media.conf"),
                              encoding: .utf8)
        let (_, nginx) = try contractOperations()
        XCTAssertEqual(nginx, ["GET /api/media/openapi.json"])
        for operation in nginx {
            let path = operation.split(separator: " ")[1]
            XCTAssertTrue(conf.contains("location = \(path) {"), "nginx/media.conf has no location for \(path)")
        }
    }

    /// The `_debug` routes (MEDIA_DEBUG_ENDPOINTS, tests only) are the only ones left out.
    func testOnlyTheDebugRoutesAreOutsideTheContract() throws {
        let extra = operations(of: try router(debugEndpoints: true))
            .subtracting(operations(of: try router(debugEndpoints: false)))
        XCTAssertFalse(extra.isEmpty)
        XCTAssertEqual(extra.filter { !$0.contains(" /api/media/_debug/") }.sorted(), [])
    }
}
