#if canImport(Glibc)
import Glibc
#endif
import CFastCGI
import ServerLog

/// The supervisor, after php-fpm's static pool: it owns the listening socket and the
/// scoreboard, starts the workers by fork+exec (posix_spawn: Swift, Dispatch and libvips
/// threads are not fork-safe), restarts them, enforces the per-request time limit, and
/// stops or reloads them gracefully. It is single-threaded and takes its signals with
/// sigtimedwait, so no signal handler ever runs Swift code.
public final class ProcessPool {
    public struct Configuration: Sendable {
        public var workers: Int
        /// The binary to exec for each worker and its arguments (the same binary, `worker`).
        public var executable: String
        public var workerArguments: [String]
        /// Kill and replace a worker whose request runs longer than this (0: no limit).
        public var requestTimeoutMilliseconds: Int64
        /// How long a graceful stop waits for in-flight requests before SIGKILL.
        public var stopTimeoutMilliseconds: Int64

        public init(workers: Int, executable: String, workerArguments: [String],
                    requestTimeoutMilliseconds: Int64, stopTimeoutMilliseconds: Int64) {
            self.workers = workers
            self.executable = executable
            self.workerArguments = workerArguments
            self.requestTimeoutMilliseconds = requestTimeoutMilliseconds
            self.stopTimeoutMilliseconds = stopTimeoutMilliseconds
        }
    }

    private struct WorkerRecord {
        let pid: pid_t
        let slot: Int
        let startedAt: Int64
        /// Set when the worker was told to leave (reload or stop): do not replace it.
        var retiring = false
        var timeLimitSignalledAt: Int64?
    }

    private let configuration: Configuration
    private let socket: ListenSocket
    private let scoreboard: Scoreboard
    private var workers: [pid_t: WorkerRecord] = [:]
    private var respawnAt: [Int64] = []
    private var crashBackoffMilliseconds: Int64 = 0
    private var stopping = false
    private var stopDeadline: Int64 = 0
    private var lastStopSignal: Int64 = 0
    /// Rolling restart: workers still to replace, and the one being replaced now.
    private var reloadQueue: [pid_t] = []
    private var reloadStep: (old: pid_t, replacement: pid_t)?

    static let workerSlotVariable = "MEDIA_SCOREBOARD_SLOT"
    static let monitoredSignals: [Int32] = [SIGCHLD, SIGTERM, SIGQUIT, SIGINT, SIGHUP]

    public init(configuration: Configuration, socket: ListenSocket) throws {
        self.configuration = configuration
        self.socket = socket
        self.scoreboard = try Scoreboard(poolSize: configuration.workers)
    }

    /// Runs until stopped by SIGTERM, SIGQUIT or SIGINT; returns the exit status.
    public func run() -> Int32 {
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in ProcessPool.monitoredSignals { sigaddset(&signals, signal) }
        sigprocmask(SIG_BLOCK, &signals, nil)
        Glibc.signal(SIGPIPE, SIG_IGN)

        Log.info("pool.started", ["listen": .string(socket.address.description),
                                  "workers": LogValue(configuration.workers)])
        for _ in 0..<configuration.workers { spawnWorker() }

        var timeout = timespec(tv_sec: 0, tv_nsec: 100_000_000)
        while true {
            var info = siginfo_t()
            let signal = sigtimedwait(&signals, &info, &timeout)
            switch signal {
            case SIGCHLD: break  // reaped below
            case SIGTERM, SIGQUIT, SIGINT: beginStop(signal: signal)
            case SIGHUP: beginReload()
            default: break
            }
            reapWorkers()
            let now = wallClockMilliseconds()
            if stopping {
                if workers.isEmpty { break }
                continueStop(now: now)
                continue
            }
            enforceTimeLimit(now: now)
            respawnDue(now: now)
            advanceReload()
        }
        socket.unlinkPath()
        Log.info("pool.stopped", ["requests": LogValue(scoreboard.snapshot().acceptedRequests)])
        return 0
    }

    // MARK: - Workers

    @discardableResult
    private func spawnWorker() -> pid_t? {
        guard let slot = freeSlot() else {
            Log.error("pool.no_free_slot")
            return nil
        }
        let pointer = scoreboard.slot(slot)
        pointer.pointee = media_scoreboard_slot()
        pointer.pointee.state = Int32(MEDIA_SLOT_STARTING)
        pointer.pointee.started_ms = wallClockMilliseconds()

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The listening socket becomes the worker's fd 0 (the FastCGI convention), the
        // scoreboard its fd 3. Both sources are CLOEXEC and never 0 or 3 themselves.
        posix_spawn_file_actions_adddup2(&actions, socket.fileDescriptor, 0)
        posix_spawn_file_actions_adddup2(&actions, scoreboard.fileDescriptor, Scoreboard.workerFileDescriptor)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in ProcessPool.monitoredSignals + [SIGPIPE, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let arguments = [configuration.executable] + configuration.workerArguments
        var environment = currentEnvironment().filter { !$0.hasPrefix(ProcessPool.workerSlotVariable + "=") }
        environment.append("\(ProcessPool.workerSlotVariable)=\(slot)")
        var argv = arguments.map { strdup($0) } + [nil]
        var envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, configuration.executable, &actions, &attributes, &argv, &envp)
        guard result == 0 else {
            pointer.pointee.state = Int32(MEDIA_SLOT_FREE)
            Log.error("worker.spawn_failed", ["error": .string(String(cString: strerror(result)))])
            scheduleRespawn(crashed: true, livedMilliseconds: 0)
            return nil
        }
        pointer.pointee.pid = pid
        workers[pid] = WorkerRecord(pid: pid, slot: slot, startedAt: wallClockMilliseconds())
        Log.info("worker.started", ["worker": LogValue(pid), "slot": LogValue(slot)])
        return pid
    }

    private func freeSlot() -> Int? {
        let used = Set(workers.values.map(\.slot))
        return (0..<scoreboard.capacity).first { !used.contains($0) }
    }

    private func reapWorkers() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            guard let record = workers.removeValue(forKey: pid) else { continue }
            retireSlot(record.slot)
            let signalled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
            let code = (status >> 8) & 0xff
            let clean = !signalled && code == 0
            let lived = wallClockMilliseconds() - record.startedAt
            var fields: [(key: String, value: LogValue)] = [("worker", LogValue(pid)), ("livedMs", .int(lived))]
            fields.append(signalled ? ("signal", LogValue(status & 0x7f)) : ("exitCode", LogValue(code)))
            if record.timeLimitSignalledAt != nil { fields.append(("reason", "time-limit")) }
            Log.write(level: clean ? "info" : "warn", event: "worker.exited", fields: fields)
            if reloadStep?.replacement == pid { reloadStep = nil }
            if reloadStep?.old == pid {
                // Its replacement is already running (it died before it was retired).
                reloadStep = nil
                continue
            }
            if stopping || record.retiring { continue }
            // A worker killed for the time limit did its job; only real crashes back off.
            scheduleRespawn(crashed: !clean && record.timeLimitSignalledAt == nil, livedMilliseconds: lived)
        }
    }

    /// Folds a dead worker's counters into the pool totals and frees its slot.
    private func retireSlot(_ index: Int) {
        let slot = scoreboard.slot(index)
        scoreboard.board.pointee.retired_requests += slot.pointee.requests
        scoreboard.board.pointee.retired_slow_requests += slot.pointee.slow_requests
        scoreboard.board.pointee.retired_all_busy_events += slot.pointee.all_busy_events
        slot.pointee = media_scoreboard_slot()
    }

    private func scheduleRespawn(crashed: Bool, livedMilliseconds: Int64) {
        if crashed {
            // Exponential back-off for a worker that keeps dying young; reset once one lives.
            crashBackoffMilliseconds = livedMilliseconds > 10_000 ? 0
                : min(max(crashBackoffMilliseconds * 2, 100), 5_000)
        } else {
            crashBackoffMilliseconds = 0
        }
        respawnAt.append(wallClockMilliseconds() + (crashed ? crashBackoffMilliseconds : 0))
    }

    private func respawnDue(now: Int64) {
        let due = respawnAt.filter { $0 <= now }
        respawnAt.removeAll { $0 <= now }
        for _ in due {
            if spawnWorker() != nil { scoreboard.board.pointee.restarts += 1 }
        }
    }

    // MARK: - Time limit

    private func enforceTimeLimit(now: Int64) {
        let limit = configuration.requestTimeoutMilliseconds
        guard limit > 0 else { return }
        for (pid, record) in workers {
            if let signalled = record.timeLimitSignalledAt {
                // The worker answers 504 and exits at once; if it cannot, it is killed.
                if now - signalled > 2_000 { kill(pid, SIGKILL) }
                continue
            }
            let slot = scoreboard.readSlot(record.slot)
            guard slot.state == Int32(MEDIA_SLOT_BUSY), slot.request_started_ms > 0,
                  now - slot.request_started_ms > limit else { continue }
            workers[pid]?.timeLimitSignalledAt = now
            scoreboard.board.pointee.time_limit_kills += 1
            Log.warning("worker.time_limit", [
                "worker": LogValue(pid), "elapsedMs": .int(now - slot.request_started_ms),
                "limitMs": .int(limit), "method": .string(readCString(slot.method)),
                "uri": .string(readCString(slot.uri)), "requestId": .string(readCString(slot.request_id)),
            ])
            kill(pid, SIGUSR2)
        }
    }

    // MARK: - Stop and reload

    private func beginStop(signal: Int32) {
        guard !stopping else { return }
        stopping = true
        stopDeadline = wallClockMilliseconds() + configuration.stopTimeoutMilliseconds
        Log.info("pool.stopping", ["signal": LogValue(signal), "workers": LogValue(workers.count)])
        signalAll(SIGQUIT)
    }

    private func continueStop(now: Int64) {
        if now >= stopDeadline {
            Log.warning("pool.stop_timeout", ["workers": LogValue(workers.count)])
            signalAll(SIGKILL)
            stopDeadline = now + 1_000
            return
        }
        // Re-send: a signal that landed between a worker's stop check and its accept call
        // would otherwise leave it waiting in accept.
        if now - lastStopSignal >= 500 { signalAll(SIGQUIT) }
    }

    private func signalAll(_ signal: Int32) {
        lastStopSignal = wallClockMilliseconds()
        for pid in workers.keys { kill(pid, signal) }
    }

    private func beginReload() {
        guard reloadQueue.isEmpty, reloadStep == nil else {
            Log.info("pool.reload_in_progress")
            return
        }
        reloadQueue = workers.values.filter { !$0.retiring }.map(\.pid).sorted()
        Log.info("pool.reloading", ["workers": LogValue(reloadQueue.count)])
    }

    /// One worker at a time: start its replacement, wait until the replacement accepts,
    /// then ask the old one to finish its request and leave. Capacity never drops.
    private func advanceReload() {
        if let step = reloadStep {
            guard var old = workers[step.old], !old.retiring else { return }
            guard let replacement = workers[step.replacement] else {
                reloadStep = nil
                return
            }
            guard scoreboard.readSlot(replacement.slot).state == Int32(MEDIA_SLOT_IDLE) else { return }
            old.retiring = true
            workers[step.old] = old
            kill(step.old, SIGQUIT)
            return
        }
        while let next = reloadQueue.first {
            reloadQueue.removeFirst()
            guard workers[next] != nil else { continue }
            guard let replacement = spawnWorker() else { return }
            reloadStep = (next, replacement)
            return
        }
    }

    // MARK: - Standalone helpers

    private func currentEnvironment() -> [String] {
        var result: [String] = []
        var entry = environ
        while let pointer = entry.pointee {
            result.append(String(cString: pointer))
            entry += 1
        }
        return result
    }
}
