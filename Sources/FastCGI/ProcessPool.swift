#if canImport(Glibc)
import Glibc
#endif
import CChildProcess
import CFastCGI
import ServerLog

/// The supervisor, after php-fpm's static pool: it owns the listening socket and the
/// scoreboard, starts the workers by fork+exec (posix_spawn: Swift, Dispatch and libvips
/// threads are not fork-safe), restarts them, enforces the per-request time limit, and
/// stops or reloads them gracefully. It is single-threaded and takes its signals with
/// sigtimedwait, so no signal handler ever runs Swift code. What to do when is decided by
/// `PoolLifecycle`; this class only carries it out.
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
        /// Called with each worker's pid once it is reaped, however it died: what a killed
        /// worker could not clean up (its staged uploads) is cleaned up here.
        public var workerReaped: @Sendable (pid_t) -> Void

        public init(workers: Int, executable: String, workerArguments: [String],
                    requestTimeoutMilliseconds: Int64, stopTimeoutMilliseconds: Int64,
                    workerReaped: @escaping @Sendable (pid_t) -> Void = { _ in }) {
            self.workers = workers
            self.executable = executable
            self.workerArguments = workerArguments
            self.requestTimeoutMilliseconds = requestTimeoutMilliseconds
            self.stopTimeoutMilliseconds = stopTimeoutMilliseconds
            self.workerReaped = workerReaped
        }
    }

    private let configuration: Configuration
    private let socket: ListenSocket
    private let scoreboard: Scoreboard
    private var lifecycle: PoolLifecycle

    static let workerSlotVariable = "MEDIA_SCOREBOARD_SLOT"
    static let monitoredSignals: [Int32] = [SIGCHLD, SIGTERM, SIGQUIT, SIGINT, SIGHUP]

    public init(configuration: Configuration, socket: ListenSocket) throws {
        self.configuration = configuration
        self.socket = socket
        let scoreboard = try Scoreboard(poolSize: configuration.workers)
        self.scoreboard = scoreboard
        lifecycle = PoolLifecycle(settings: .init(
            workers: configuration.workers, slots: scoreboard.capacity,
            requestTimeoutMilliseconds: configuration.requestTimeoutMilliseconds,
            stopTimeoutMilliseconds: configuration.stopTimeoutMilliseconds))
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
        handle(.start)

        var timeout = timespec(tv_sec: 0, tv_nsec: 100_000_000)
        while true {
            var info = siginfo_t()
            let signal = sigtimedwait(&signals, &info, &timeout)
            switch signal {
            case SIGTERM, SIGQUIT, SIGINT: handle(.stop(signal: signal))
            case SIGHUP: handle(.reload)
            default: break  // SIGCHLD (reaped below) or the timeout
            }
            reapWorkers()
            if lifecycle.isFinished { break }
            handle(.tick(activity: activity()))
        }
        socket.unlinkPath()
        Log.info("pool.stopped", ["requests": LogValue(scoreboard.snapshot().acceptedRequests)])
        return 0
    }

    /// Feeds one event to the lifecycle and carries out its actions, in order.
    private func handle(_ event: PoolLifecycle.Event) {
        for action in lifecycle.handle(event, now: wallClockMilliseconds()) {
            switch action {
            case .spawn(let slot, let restart): spawnWorker(slot: slot, restart: restart)
            case .signal(let pid, let signal): kill(pid, signal)
            case .releaseSlot(let slot): releaseSlot(slot)
            case .countTimeLimitKill: scoreboard.board.pointee.time_limit_kills += 1
            case .log(let level, let event, let fields): Log.write(level: level, event: event, fields: fields)
            }
        }
    }

    // MARK: - Workers

    private func spawnWorker(slot: Int, restart: Bool) {
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
            handle(.spawnFailed(slot: slot))
            return
        }
        pointer.pointee.pid = pid
        if restart { scoreboard.board.pointee.restarts += 1 }
        handle(.spawned(slot: slot, pid: pid))
    }

    private func reapWorkers() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            // Without WUNTRACED, waitpid reports only exits and deaths by a signal.
            let exit: PoolLifecycle.ExitStatus = media_wifexited(status) != 0
                ? .exited(code: media_wexitstatus(status)) : .signalled(media_wtermsig(status))
            handle(.exited(pid: pid, exit))
            configuration.workerReaped(pid)
        }
    }

    /// Folds a dead worker's counters into the pool totals and frees its slot.
    private func releaseSlot(_ index: Int) {
        let slot = scoreboard.slot(index)
        scoreboard.board.pointee.retired_requests += slot.pointee.requests
        scoreboard.board.pointee.retired_slow_requests += slot.pointee.slow_requests
        scoreboard.board.pointee.retired_all_busy_events += slot.pointee.all_busy_events
        slot.pointee = media_scoreboard_slot()
    }

    /// What the scoreboard shows of each worker: idle (it accepts) or busy with a request.
    private func activity() -> [pid_t: PoolLifecycle.Activity] {
        var result: [pid_t: PoolLifecycle.Activity] = [:]
        for worker in lifecycle.workers {
            let slot = scoreboard.readSlot(worker.slot)
            if slot.state == Int32(MEDIA_SLOT_IDLE) {
                result[worker.pid] = .idle
            } else if slot.state == Int32(MEDIA_SLOT_BUSY), slot.request_started_ms > 0 {
                result[worker.pid] = .busy(PoolLifecycle.Request(
                    startedAt: slot.request_started_ms, method: readCString(slot.method),
                    uri: readCString(slot.uri), requestId: readCString(slot.request_id)))
            }
        }
        return result
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
