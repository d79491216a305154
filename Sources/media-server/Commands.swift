#if canImport(Glibc)
import Glibc
#endif
import FastCGI
import Foundation
import MariaDB
import Media
import MediaAPI
import S3
import ServerLog

enum Commands {
    static let usage = """
    media-server: the media library and AI image generation service (FastCGI).

    Usage: media-server COMMAND

    Commands:
      serve          bind the socket and run the worker pool (the production entry point)
      worker         serve FastCGI on the listening socket at fd 0 (spawned by `serve`,
                     spawn-fcgi, or systemd socket activation)
      check-schema   compare the live database with the schema this version needs; one
                     line per difference, exit status 1 if there is any
      explain-library USER_ID [CURSOR]
                     the database's plan (EXPLAIN) for one page of a user's library
      gc [--dry-run] [--older-than DURATION]
                     remove storage objects of no live asset, temp files older than an hour,
                     assets an ingest abandoned in pending/processing (its worker died) and
                     unfinished multipart uploads; --dry-run lists them without removing
                     anything; --older-than (e.g. 5m) is how old an unfinished ingest or upload
                     must be [default: twice MEDIA_REQUEST_TIMEOUT, at least 10m]
      check-storage  check that the origin (MEDIA_ORIGIN) is usable: the storage root, or the
                     bucket reachable with the given keys; exit status 1 if not
      storage copy --from local|r2 --to local|r2
                     copy every stored object of every asset to the other origin, verified by
                     checksum and size; what is already there at the right size is skipped, so
                     an interrupted copy resumes. Then switching MEDIA_ORIGIN is the only change
      storage verify [--origin local|r2]
                     list objects the database names that the origin (default MEDIA_ORIGIN)
                     lacks or holds at another size; exit status 1 if there is any
      help           this text

    Signals to `serve`: SIGTERM/SIGQUIT/SIGINT stop gracefully (in-flight requests finish),
    SIGHUP reloads with a rolling restart of the workers.

    Environment:
    """

    static func run(_ command: String, arguments: [String]) -> Int32 {
        switch command {
        case "serve": return serve()
        case "worker": return worker()
        case "check-schema": return checkSchema()
        case "explain-library": return explainLibrary(arguments)
        case "gc": return collectGarbage(arguments)
        case "check-storage": return checkStorage()
        case "storage": return StorageCommands.run(arguments)
        case "help", "--help", "-h":
            print(helpText())
            return 0
        default:
            FileHandle.standardError.write(Data("media-server: unknown command `\(command)`\n\n\(helpText())\n".utf8))
            return 64
        }
    }

    static func helpText() -> String {
        let width = ServiceConfiguration.variables.map(\.name.count).max() ?? 0
        let lines = ServiceConfiguration.variables.map { variable in
            "  \(variable.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(variable.meaning) [default: \(variable.defaultValue)]"
        }
        return usage + "\n" + lines.joined(separator: "\n")
    }

    /// Loads the configuration or exits with one line per problem (EX_CONFIG).
    static func loadConfiguration() -> ServiceConfiguration {
        do {
            return try ServiceConfiguration(environment: ProcessInfo.processInfo.environment)
        } catch let invalid as ServiceConfiguration.Invalid {
            for problem in invalid.problems { FileHandle.standardError.write(Data("media-server: \(problem)\n".utf8)) }
            exit(78)
        } catch {
            exit(78)
        }
    }

    static func serve() -> Int32 {
        let configuration = loadConfiguration()
        // Refuse a schema we cannot use. An unreachable database is not a reason to refuse:
        // requests answer 503 until it is back, like during any outage.
        let database = Database(configuration: configuration.database)
        do {
            let problems = try SchemaVerifier().differences(in: database)
            if !problems.isEmpty {
                for problem in problems { Log.error("schema.mismatch", ["problem": .string(problem)]) }
                FileHandle.standardError.write(Data("media-server: the database schema is not usable; run `media-server check-schema` (apply prisma-compat/migrations)\n".utf8))
                return 1
            }
        } catch let error as DatabaseError where error.isConnectionFailure {
            Log.warning("schema.unchecked", ["reason": .string("database unreachable at start: \(error.message)")])
        } catch {
            Log.error("schema.check_failed", ["error": .string(String(describing: error))])
            return 1
        }
        database.close()
        // The origin must be usable before any worker needs it: refuse to start otherwise.
        guard let staging = usableOrigin(configuration, command: "media-server") else { return 1 }
        do {
            _ = try OwnersRegistry(contentsOf: configuration.ownersFile)
        } catch {
            FileHandle.standardError.write(Data("media-server: \(error)\n".utf8))
            return 78
        }
        if configuration.auth == .dev {
            Log.warning("auth.dev_mode", ["message": "MEDIA_AUTH=dev: the X-User-Id header is trusted; local stack only, never in production"])
        }
        do {
            let socket = try ListenSocket.bind(configuration.listen, mode: configuration.socketMode,
                                               backlog: configuration.backlog)
            let pool = try ProcessPool(
                configuration: .init(workers: configuration.workers, executable: executablePath(),
                                     workerArguments: ["worker"],
                                     requestTimeoutMilliseconds: configuration.requestTimeoutMilliseconds,
                                     stopTimeoutMilliseconds: configuration.stopTimeoutMilliseconds,
                                     workerReaped: { pid in
                                         // A worker killed mid-upload (time limit, crash) leaves its staged file.
                                         let removed = staging.removeFiles(ofProcess: pid)
                                         if !removed.isEmpty {
                                             Log.warning("pool.worker_files_removed", ["pid": LogValue(Int(pid)),
                                                                                       "files": LogValue(removed.count)])
                                         }
                                     }),
                socket: socket)
            return pool.run()
        } catch {
            Log.error("pool.start_failed", ["error": .string(String(describing: error))])
            return 1
        }
    }

    static func worker() -> Int32 {
        let configuration = loadConfiguration()
        let environment = ProcessInfo.processInfo.environment
        var listenDescriptor: Int32 = 0
        // systemd socket activation hands the socket over as fd 3.
        if environment["LISTEN_FDS"] == "1", environment["LISTEN_PID"] == String(getpid()) {
            listenDescriptor = 3
        }
        guard ListenSocket.isListening(listenDescriptor) else {
            Log.error("worker.no_listen_socket", ["fd": LogValue(listenDescriptor)])
            FileHandle.standardError.write(Data("media-server worker: fd \(listenDescriptor) is not a listening socket; use `media-server serve`\n".utf8))
            return 64
        }
        // Under the pool: the shared scoreboard on fd 3 and our slot. Standalone: a private one.
        let scoreboard: Scoreboard
        let slotIndex: Int
        if listenDescriptor == 0, let slotText = environment["MEDIA_SCOREBOARD_SLOT"], let slot = Int(slotText),
           let shared = Scoreboard(inheritedFileDescriptor: Scoreboard.workerFileDescriptor), slot < shared.capacity {
            scoreboard = shared
            slotIndex = slot
        } else {
            do {
                scoreboard = try Scoreboard(poolSize: 1)
                scoreboard.registerStandaloneWorker()
            } catch {
                Log.error("worker.scoreboard_failed", ["error": .string(String(describing: error))])
                return 1
            }
            slotIndex = 0
        }
        let application: Application
        let runner: GenerationRunner
        do {
            (application, runner) = try Service.makeApplication(configuration: configuration, scoreboard: scoreboard)
        } catch {
            Log.error("worker.start_failed", ["error": .string(String(describing: error))])
            return 1
        }
        let worker = Worker(
            configuration: .init(listenFileDescriptor: listenDescriptor, maxRequests: configuration.maxRequests,
                                 slowRequestMilliseconds: configuration.slowRequestMilliseconds),
            slot: WorkerSlot(board: scoreboard, index: slotIndex))
        let reason = worker.run(application)
        // A job in progress finishes if it can; otherwise its lease goes stale and another
        // worker reclaims it.
        runner.stop(timeout: Double(configuration.stopTimeoutMilliseconds) / 1000 / 2)
        Log.info("worker.exiting", ["reason": .string(reason.rawValue), "requests": LogValue(worker.requestsServed)])
        return reason == .acceptFailed ? 1 : 0
    }

    static func checkSchema() -> Int32 {
        let configuration = loadConfiguration()
        do {
            let problems = try SchemaVerifier().differences(in: Database(configuration: configuration.database))
            if problems.isEmpty {
                print("schema OK: \(ExpectedSchema.media.tables.map(\.name).joined(separator: ", "))")
                return 0
            }
            problems.forEach { print($0) }
            return 1
        } catch {
            FileHandle.standardError.write(Data("media-server check-schema: \(error)\n".utf8))
            return 2
        }
    }

    static func explainLibrary(_ arguments: [String]) -> Int32 {
        guard let userId = arguments.first else {
            FileHandle.standardError.write(Data("usage: media-server explain-library USER_ID [CURSOR]\n".utf8))
            return 64
        }
        let configuration = loadConfiguration()
        var query = LibraryQuery(userId: userId)
        if arguments.count > 1 {
            guard let cursor = LibraryCursor(token: arguments[1]) else {
                FileHandle.standardError.write(Data("media-server explain-library: not a library cursor\n".utf8))
                return 64
            }
            query.after = cursor
        }
        do {
            let plan = try AssetRepository(database: Database(configuration: configuration.database)).explainLibrary(query)
            plan.forEach { print($0) }
            return 0
        } catch {
            FileHandle.standardError.write(Data("media-server explain-library: \(error)\n".utf8))
            return 1
        }
    }

    /// The staging area when the origin is usable (the storage root writable, the bucket
    /// reachable with our keys); nil after one clear line on stderr.
    static func usableOrigin(_ configuration: ServiceConfiguration, command: String) -> StagingArea? {
        do {
            let origin = try Service.Origin(configuration)
            try Service.Origin.checkReachable(origin.storage)
            return origin.staging
        } catch let error as S3Error {
            let bucket = configuration.bucket.map { "bucket \($0.bucket) at \($0.endpoint)" } ?? "bucket"
            FileHandle.standardError.write(Data("\(command): MEDIA_ORIGIN=r2: \(bucket) is not usable: \(error)\n".utf8))
        } catch {
            FileHandle.standardError.write(Data("\(command): MEDIA_STORAGE_ROOT=\(configuration.storageRoot): \(error)\n".utf8))
        }
        return nil
    }

    static func checkStorage() -> Int32 {
        let configuration = loadConfiguration()
        guard usableOrigin(configuration, command: "media-server check-storage") != nil else { return 1 }
        switch (configuration.origin, configuration.bucket) {
        case (.r2, let bucket?): print("storage OK: bucket \(bucket.bucket) at \(bucket.endpoint)")
        default: print("storage OK: \(configuration.storageRoot)")
        }
        return 0
    }

    static func collectGarbage(_ arguments: [String]) -> Int32 {
        let configuration = loadConfiguration()
        let dryRun = arguments.contains("--dry-run")
        // No ingest outlives the request time limit; generous margin for jobs.
        var abandonedAfter = max(2 * Double(configuration.requestTimeoutMilliseconds) / 1000, 600)
        if let flag = arguments.firstIndex(of: "--older-than") {
            var reader = EnvironmentReader(environment: ["--older-than": flag + 1 < arguments.count ? arguments[flag + 1] : "-"])
            let milliseconds = reader.duration("--older-than", default: 0)
            guard reader.problems.isEmpty else {
                FileHandle.standardError.write(Data("media-server gc: --older-than takes a duration such as 90s or 5m\n".utf8))
                return 64
            }
            abandonedAfter = Double(milliseconds) / 1000
        }
        do {
            let origin = try Service.Origin(configuration)
            let collector = GarbageCollector(
                database: Database(configuration: configuration.database),
                storage: origin.storage, staging: origin.staging,
                owners: try OwnersRegistry(contentsOf: configuration.ownersFile),
                abandonedAfter: abandonedAfter)
            var count = 0
            try collector.run(remove: !dryRun) { finding in
                count += 1
                print("\(dryRun ? "would remove" : "removed") \(finding.kind.rawValue): \(finding.subject)")
            }
            print("gc: \(count) \(dryRun ? "found (dry run, nothing removed)" : "removed")")
            return 0
        } catch {
            FileHandle.standardError.write(Data("media-server gc: \(error)\n".utf8))
            return 1
        }
    }

    /// The binary's own path, resolved once at start so a reload execs a rebuilt binary.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
