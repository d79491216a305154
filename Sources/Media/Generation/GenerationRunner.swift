import Foundation
import MariaDB
import ServerLog
#if canImport(Glibc)
import Glibc
#endif

/// What a job leaves in its `result` JSON: the provider's facts and how it ended.
struct JobResult: Codable {
    var facts: ProviderFacts?
    /// succeeded, refused, rejected, unavailable, invalid_output: the metrics label.
    var outcome: String?
    var attachmentId: String?
    var attachError: String?

    var json: JSONText? { try? JSONText(encoding: self) }
}

/// The job runner a worker runs beside its request loop, on its own thread and its own
/// database connection: claims queued jobs (at most `concurrency` running across all hosts),
/// keeps their lease fresh, reclaims the jobs of dead runners, and takes each job
/// through provider → saved bytes → ingest → succeeded | failed.
public final class GenerationRunner: @unchecked Sendable {
    public struct Settings: Sendable {
        public var concurrency: Int
        /// A running job whose heartbeat is older than this belongs to a dead runner.
        public var staleAfterSeconds: Double
        public var maxAttempts: Int
        /// How often an idle runner looks for work (a job queued by this worker wakes it at once).
        public var pollSeconds: Double
        /// Where the provider's bytes wait for ingest (beside the storage root).
        public var stagingDirectory: String
        /// Test hook (debug endpoints only): a pause after the provider's bytes are saved.
        public var pauseAfterSaveMilliseconds: Int

        public init(concurrency: Int, staleAfterSeconds: Double, maxAttempts: Int, pollSeconds: Double = 0.5,
                    stagingDirectory: String, pauseAfterSaveMilliseconds: Int = 0) {
            self.concurrency = concurrency
            self.staleAfterSeconds = staleAfterSeconds
            self.maxAttempts = maxAttempts
            self.pollSeconds = pollSeconds
            self.stagingDirectory = stagingDirectory
            self.pauseAfterSaveMilliseconds = pauseAfterSaveMilliseconds
        }
    }

    private let settings: Settings
    private let provider: any ImageProvider
    private let database: Database
    private let ingest: IngestService
    private let attachments: AttachmentService
    private let wakeUp = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stopping = false
    private var finished = DispatchSemaphore(value: 0)

    /// `database` must be this runner's own connection (a connection serves one thread).
    public init(settings: Settings, provider: any ImageProvider, database: Database, ingest: IngestService,
                attachments: AttachmentService) {
        self.settings = settings
        self.provider = provider
        self.database = database
        self.ingest = ingest
        self.attachments = attachments
    }

    public func start() {
        let thread = Thread { [self] in
            loop()
            finished.signal()
        }
        thread.name = "generation-runner"
        thread.start()
    }

    /// A job was just queued: look now rather than at the next poll.
    public func wake() { wakeUp.signal() }

    /// Asks the runner to stop after its current job; waits up to `timeout` seconds.
    public func stop(timeout: Double) {
        lock.withLock { stopping = true }
        wakeUp.signal()
        _ = finished.wait(timeout: .now() + timeout)
    }

    private var isStopping: Bool { lock.withLock { stopping } }

    private var jobs: JobRepository { JobRepository(database: database) }

    private func loop() {
        var nextReclaim = Date()
        while !isStopping {
            do {
                if Date() >= nextReclaim {
                    try reclaim()
                    nextReclaim = Date().addingTimeInterval(max(1, settings.staleAfterSeconds / 3))
                }
                let liveSince = Date.databaseNow.addingTimeInterval(-settings.staleAfterSeconds)
                if let job = try jobs.claimNext(provider: provider.name, limit: settings.concurrency, liveSince: liveSince) {
                    logState(job, "running")
                    run(job)
                    continue
                }
            } catch {
                Log.warning("generation.runner_error", ["error": .string(String(describing: error))])
            }
            _ = wakeUp.wait(timeout: .now() + settings.pollSeconds)
        }
    }

    private func reclaim() throws {
        let staleBefore = Date.databaseNow.addingTimeInterval(-settings.staleAfterSeconds)
        let (requeued, failed) = try jobs.reclaimStale(staleBefore: staleBefore, maxAttempts: settings.maxAttempts)
        for id in requeued { Log.warning("job.state", ["jobId": .string(id), "status": "queued", "reason": "stale heartbeat: its worker died"]) }
        for id in failed { Log.error("job.state", ["jobId": .string(id), "status": "failed", "reason": "stale heartbeat, no attempts left"]) }
    }

    private func run(_ job: MediaGenerationJob) {
        var lastBeat = Date()
        let heartbeat = { [self] in
            guard Date().timeIntervalSince(lastBeat) >= min(5, settings.staleAfterSeconds / 3) else { return }
            lastBeat = Date()
            try? jobs.heartbeat(id: job.id)
        }
        let staged = settings.stagingDirectory + "/generation-\(job.id).bin"
        var result = (try? job.result?.decode(JobResult.self)) ?? JobResult()
        do {
            guard let parameters = try job.params?.decode(GenerationParameters.self) else {
                throw ProviderError(.rejected, "the job has no parameters")
            }
            // Bytes a previous attempt already paid for are used again: the provider is
            // never called twice for one job once it answered.
            let bytes: [UInt8]
            if let saved = FileManager.default.contents(atPath: staged), result.facts != nil {
                bytes = Array(saved)
            } else {
                let request = GenerationRequest(jobId: job.id, prompt: job.prompt, negativePrompt: job.negativePrompt,
                                                parameters: parameters)
                let image = try provider.generate(request, heartbeat: heartbeat)
                bytes = image.bytes
                // Written through a fresh temp name (a dead attempt's may remain, for gc): a
                // half-written file is never taken for the image.
                try DurableFile.write(image.bytes, to: staged, through: staged + ".partial-" + MediaID.generate())
                result.facts = image.facts
                try jobs.saveResult(id: job.id, result.json ?? JSONText("{}"))
                Log.info("job.provider_answered", ["jobId": .string(job.id), "provider": .string(provider.name),
                                                   "latencyMs": LogValue(image.facts.latencyMs),
                                                   "bytes": LogValue(image.bytes.count)])
            }
            pauseForTests(heartbeat)

            let file = try StagedFile(directory: settings.stagingDirectory, bytes: bytes)
            let title = job.prompt.count > 120 ? String(job.prompt.prefix(119)) + "…" : job.prompt
            let (asset, _) = try ingest.ingest(file, IngestRequest(userId: job.userId, source: .generated, title: title,
                                                                   description: job.prompt))
            if let target = parameters.attach {
                do {
                    switch try attachments.attach(assetId: asset.id, userId: job.userId, to: target) {
                    case .created(let attached), .existing(let attached): result.attachmentId = attached.attachment.id
                    }
                } catch {
                    // The image is in the library either way; the job says why it is not attached.
                    result.attachError = "\(error)"
                }
            }
            result.outcome = "succeeded"
            try jobs.succeed(id: job.id, assetId: asset.id, result: result.json ?? JSONText("{}"))
            unlink(staged)
            logState(job, "succeeded", ["assetId": .string(asset.id)])
        } catch let error as ProviderError {
            finish(job, failed: error.message, outcome: error.outcome.rawValue, result: &result, staged: staged)
        } catch let error as IngestError {
            finish(job, failed: "the provider's image was refused: \(error.message)",
                   outcome: ProviderError.Outcome.invalidOutput.rawValue, result: &result, staged: staged)
        } catch MediaError.quotaExceeded(let used, let limit, let size) {
            // Another attempt would be refused the same way until the user makes room.
            finish(job, failed: "the image (\(size) bytes) does not fit in the user's storage quota: \(used) of "
                       + "\(limit) bytes are used", outcome: "quota_exceeded", result: &result, staged: staged)
        } catch {
            // Our side failed (storage, database): the saved bytes make another attempt cheap.
            if job.attempts < settings.maxAttempts, (try? jobs.requeue(id: job.id, error: "\(error)")) != nil {
                logState(job, "queued", ["reason": .string("\(error)")])
            } else {
                finish(job, failed: "\(error)", outcome: "error", result: &result, staged: staged)
            }
        }
    }

    private func finish(_ job: MediaGenerationJob, failed message: String, outcome: String, result: inout JobResult,
                        staged: String) {
        result.outcome = outcome
        do {
            try jobs.fail(id: job.id, error: message, result: result.json)
        } catch {
            Log.error("generation.runner_error", ["jobId": .string(job.id), "error": .string("\(error)")])
        }
        unlink(staged)
        logState(job, "failed", ["outcome": .string(outcome), "error": .string(message)])
    }

    private func logState(_ job: MediaGenerationJob, _ status: String, _ extra: KeyValuePairs<String, LogValue> = [:]) {
        var fields: [(key: String, value: LogValue)] = [
            ("jobId", .string(job.id)), ("status", .string(status)), ("provider", .string(provider.name)),
            ("attempt", LogValue(job.attempts)), ("userId", .string(job.userId)),
        ]
        fields += extra.map { ($0.key, $0.value) }
        Log.write(level: status == "failed" ? .warning : .info, event: "job.state", fields: fields)
    }

    private func pauseForTests(_ heartbeat: () -> Void) {
        var remaining = settings.pauseAfterSaveMilliseconds
        while remaining > 0 {
            usleep(UInt32(min(remaining, 200)) * 1000)
            remaining -= 200
            heartbeat()
        }
    }
}
