#if canImport(Glibc)
import Glibc
#endif
import ServerLog

/// The pool's life as an explicit state machine, after php-fpm's fpm_pctl: running,
/// reloading one old worker at a time, or stopping. The supervisor (ProcessPool) feeds it
/// what happened and carries out the actions it returns. It makes no system call and reads
/// no clock, so every transition can be tested without processes.
struct PoolLifecycle {
    struct Settings {
        var workers: Int
        /// Scoreboard slots: a rolling restart runs one worker more than `workers`.
        var slots: Int
        /// Kill and replace a worker whose request runs longer than this (0: no limit).
        var requestTimeoutMilliseconds: Int64
        /// How long a stop waits for in-flight requests before SIGKILL.
        var stopTimeoutMilliseconds: Int64
    }

    enum State: Equatable {
        case running
        case reloading(Reload)
        /// Every worker was asked to leave; those still there at `deadline` are killed.
        case stopping(deadline: Int64, lastSignalAt: Int64)
    }

    /// A rolling restart: each old worker is replaced, then retired, one at a time, so
    /// capacity never drops and at most one worker more than the pool size runs.
    struct Reload: Equatable {
        /// Old workers whose step has not begun, in order.
        var remaining: [pid_t]
        var step: Step?
    }

    enum Step: Equatable {
        /// `old` keeps serving until its replacement is ready.
        case replacing(old: pid_t, replacement: Replacement)
        /// `old` was asked to leave; the next step waits for it to exit.
        case retiring(old: pid_t)
    }

    enum Replacement: Equatable {
        /// Asked for in this slot; its pid is not known yet.
        case spawning(slot: Int)
        case started(pid_t)
        /// The last one died or could not start: the next one is spawned then (crash back-off).
        case due(at: Int64)
    }

    struct Worker: Equatable {
        let pid: pid_t
        let slot: Int
        /// The pool's reload count when it started: a lower one means the old binary.
        let generation: Int
        let startedAt: Int64
        /// Its slot has been seen idle: it accepts requests.
        var ready = false
        /// Asked to leave by a reload: its exit is not replaced.
        var retiring = false
        /// When it was sent SIGUSR2 for the time limit.
        var timeLimitSignalledAt: Int64?
    }

    enum ExitStatus: Equatable {
        case exited(code: Int32)
        case signalled(Int32)
    }

    /// A request in progress, as its worker's scoreboard slot shows it.
    struct Request: Equatable {
        var startedAt: Int64
        var method: String
        var uri: String
        var requestId: String
    }

    enum Activity: Equatable {
        case idle
        case busy(Request)
    }

    enum Event {
        case start
        case spawned(slot: Int, pid: pid_t)
        case spawnFailed(slot: Int)
        case exited(pid: pid_t, ExitStatus)
        /// SIGHUP.
        case reload
        /// SIGTERM, SIGQUIT or SIGINT.
        case stop(signal: Int32)
        /// Time passed. `activity` holds the workers whose slot shows them idle or busy.
        case tick(activity: [pid_t: Activity])
    }

    enum Action {
        /// Start a worker in `slot` and report `spawned` or `spawnFailed` at once. `restart`:
        /// it succeeds a worker that died (the pool's restart count).
        case spawn(slot: Int, restart: Bool)
        case signal(pid_t, Int32)
        /// Fold an exited worker's counters into the pool totals and free its slot.
        case releaseSlot(Int)
        case countTimeLimitKill
        case log(level: LogLevel, event: String, fields: [(key: String, value: LogValue)])
    }

    /// A worker past the time limit gets this long to answer 504 and exit before SIGKILL.
    static let timeLimitGraceMilliseconds: Int64 = 2_000
    static let stopResendMilliseconds: Int64 = 500
    static let killResendMilliseconds: Int64 = 1_000

    let settings: Settings
    private(set) var state = State.running
    private(set) var workers: [Worker] = []
    /// Bumped by each reload.
    private(set) var generation = 0
    /// Slots of spawn actions not yet answered.
    private var spawning: Set<Int> = []
    /// When to start the successors of workers that died (a reload's replacement aside).
    private var respawns: [Int64] = []
    private var crashBackoffMilliseconds: Int64 = 0

    init(settings: Settings) {
        self.settings = settings
    }

    /// Stopping, and every worker gone: the supervisor may exit.
    var isFinished: Bool { isStopping && workers.isEmpty && spawning.isEmpty }

    mutating func handle(_ event: Event, now: Int64) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .start:
            for _ in 0..<settings.workers {
                if spawn(restart: false, into: &actions) == nil { respawns.append(now) }
            }
        case .spawned(let slot, let pid):
            spawning.remove(slot)
            workers.append(Worker(pid: pid, slot: slot, generation: generation, startedAt: now))
            if case .replacing(let old, .spawning(slot: slot)) = step {
                step = .replacing(old: old, replacement: .started(pid))
            }
            actions.append(.log(level: .info, event: "worker.started",
                                fields: [("worker", LogValue(pid)), ("slot", LogValue(slot))]))
        case .spawnFailed(let slot):
            spawning.remove(slot)
            let due = now + backOff(crashed: true, livedMilliseconds: 0)
            if case .replacing(let old, .spawning(slot: slot)) = step {
                step = .replacing(old: old, replacement: .due(at: due))
            } else {
                respawns.append(due)
            }
        case .exited(let pid, let status):
            workerExited(pid: pid, status: status, now: now, into: &actions)
        case .reload:
            beginReload(into: &actions)
        case .stop(let signal):
            guard !isStopping else { break }
            // A reload in progress is abandoned: its replacement leaves with the others.
            state = .stopping(deadline: now + settings.stopTimeoutMilliseconds, lastSignalAt: now)
            respawns = []
            actions.append(.log(level: .info, event: "pool.stopping",
                                fields: [("signal", LogValue(signal)), ("workers", LogValue(workers.count))]))
            signalAll(SIGQUIT, into: &actions)
        case .tick(let activity):
            tick(activity: activity, now: now, into: &actions)
        }
        return actions
    }

    private var isStopping: Bool {
        if case .stopping = state { return true }
        return false
    }

    /// The current reload step, read and written in place (nil outside a reload).
    private var step: Step? {
        get {
            guard case .reloading(let reload) = state else { return nil }
            return reload.step
        }
        set {
            guard case .reloading(var reload) = state else { return }
            reload.step = newValue
            state = .reloading(reload)
        }
    }

    // MARK: - Workers

    /// Reserves a free slot and asks for a worker in it; nil (logged) if every slot is taken.
    private mutating func spawn(restart: Bool, into actions: inout [Action]) -> Int? {
        let used = Set(workers.map(\.slot)).union(spawning)
        guard let slot = (0..<settings.slots).first(where: { !used.contains($0) }) else {
            actions.append(.log(level: .error, event: "pool.no_free_slot", fields: []))
            return nil
        }
        spawning.insert(slot)
        actions.append(.spawn(slot: slot, restart: restart))
        return slot
    }

    private mutating func workerExited(pid: pid_t, status: ExitStatus, now: Int64, into actions: inout [Action]) {
        guard let index = workers.firstIndex(where: { $0.pid == pid }) else { return }
        let worker = workers.remove(at: index)
        actions.append(.releaseSlot(worker.slot))
        let lived = now - worker.startedAt
        var fields: [(key: String, value: LogValue)] = [("worker", LogValue(pid)), ("livedMs", .int(lived))]
        switch status {
        case .exited(let code): fields.append(("exitCode", LogValue(code)))
        case .signalled(let signal): fields.append(("signal", LogValue(signal)))
        }
        if worker.timeLimitSignalledAt != nil { fields.append(("reason", "time-limit")) }
        let clean = status == .exited(code: 0)
        actions.append(.log(level: clean ? .info : .warning, event: "worker.exited", fields: fields))

        guard !isStopping else { return }
        if worker.retiring {
            // Only a reload step's old worker retires: the next step may begin.
            step = nil
            return
        }
        // A worker killed for the time limit did its job; only real crashes back off.
        let due = now + backOff(crashed: !clean && worker.timeLimitSignalledAt == nil, livedMilliseconds: lived)
        switch step {
        case .replacing(let old, .started(pid)):
            // The replacement died before it was ready: try again; the old one keeps serving.
            step = .replacing(old: old, replacement: .due(at: due))
        case .replacing(pid, let replacement):
            // The old worker left on its own: its replacement is its successor.
            if case .due(let at) = replacement { respawns.append(at) }
            step = nil
        default:
            respawns.append(due)
        }
    }

    /// The delay before a dead worker's successor starts: exponential (100 ms to 5 s) for
    /// workers that keep dying young, reset by one that lived 10 s or did not crash.
    private mutating func backOff(crashed: Bool, livedMilliseconds: Int64) -> Int64 {
        guard crashed else {
            crashBackoffMilliseconds = 0
            return 0
        }
        crashBackoffMilliseconds = livedMilliseconds > 10_000 ? 0 : min(max(crashBackoffMilliseconds * 2, 100), 5_000)
        return crashBackoffMilliseconds
    }

    private mutating func tick(activity: [pid_t: Activity], now: Int64, into actions: inout [Action]) {
        if case .stopping(let deadline, let lastSignalAt) = state {
            if now >= deadline {
                actions.append(.log(level: .warning, event: "pool.stop_timeout",
                                    fields: [("workers", LogValue(workers.count))]))
                signalAll(SIGKILL, into: &actions)
                state = .stopping(deadline: now + PoolLifecycle.killResendMilliseconds, lastSignalAt: now)
            } else if now - lastSignalAt >= PoolLifecycle.stopResendMilliseconds {
                // Re-send: a signal that landed between a worker's stop check and its accept
                // call would otherwise leave it waiting in accept.
                signalAll(SIGQUIT, into: &actions)
                state = .stopping(deadline: deadline, lastSignalAt: now)
            }
            return
        }
        enforceTimeLimit(activity: activity, now: now, into: &actions)
        // Idle or busy, the worker has reached its accept loop. (Idle only was not enough:
        // under steady load a replacement can be busy at every tick, so the old worker was
        // never retired and the reload never ended.)
        for index in workers.indices where activity[workers[index].pid] != nil {
            workers[index].ready = true
        }
        let queued = respawns
        respawns = []
        for due in queued {
            // One that found no free slot stays queued for the next tick.
            if due > now || spawn(restart: true, into: &actions) == nil { respawns.append(due) }
        }
        advanceReload(now: now, into: &actions)
    }

    private func signalAll(_ signal: Int32, into actions: inout [Action]) {
        for worker in workers { actions.append(.signal(worker.pid, signal)) }
    }

    // MARK: - Time limit

    private mutating func enforceTimeLimit(activity: [pid_t: Activity], now: Int64, into actions: inout [Action]) {
        let limit = settings.requestTimeoutMilliseconds
        guard limit > 0 else { return }
        for index in workers.indices {
            let pid = workers[index].pid
            if let signalled = workers[index].timeLimitSignalledAt {
                // The worker answers 504 and exits at once; if it cannot, it is killed.
                if now - signalled > PoolLifecycle.timeLimitGraceMilliseconds { actions.append(.signal(pid, SIGKILL)) }
                continue
            }
            guard case .busy(let request) = activity[pid], now - request.startedAt > limit else { continue }
            workers[index].timeLimitSignalledAt = now
            actions.append(.countTimeLimitKill)
            actions.append(.log(level: .warning, event: "worker.time_limit", fields: [
                ("worker", LogValue(pid)), ("elapsedMs", .int(now - request.startedAt)),
                ("limitMs", .int(limit)), ("method", .string(request.method)),
                ("uri", .string(request.uri)), ("requestId", .string(request.requestId)),
            ]))
            actions.append(.signal(pid, SIGUSR2))
        }
    }

    // MARK: - Reload

    private mutating func beginReload(into actions: inout [Action]) {
        switch state {
        case .running:
            generation += 1
            let old = workers.map(\.pid).sorted()
            state = .reloading(Reload(remaining: old, step: nil))
            actions.append(.log(level: .info, event: "pool.reloading", fields: [("workers", LogValue(old.count))]))
        case .reloading:
            actions.append(.log(level: .info, event: "pool.reload_in_progress", fields: []))
        case .stopping:
            break  // every worker is leaving already
        }
    }

    /// One old worker at a time: start its replacement, wait until the replacement accepts,
    /// then ask the old one to finish its request and leave, and wait until it has.
    private mutating func advanceReload(now: Int64, into actions: inout [Action]) {
        guard case .reloading(var reload) = state else { return }
        switch reload.step {
        case nil:
            // Old workers that died meanwhile were succeeded by new ones already.
            reload.remaining.removeAll { old in !workers.contains { $0.pid == old } }
            guard !reload.remaining.isEmpty else {
                state = .running
                return
            }
            let old = reload.remaining.removeFirst()
            let replacement = spawn(restart: false, into: &actions).map { Replacement.spawning(slot: $0) } ?? .due(at: now)
            reload.step = .replacing(old: old, replacement: replacement)
        case .replacing(let old, .due(let at)) where at <= now:
            guard let slot = spawn(restart: true, into: &actions) else { return }
            reload.step = .replacing(old: old, replacement: .spawning(slot: slot))
        case .replacing(let old, .started(let replacement)) where workers.contains(where: { $0.pid == replacement && $0.ready }):
            if let index = workers.firstIndex(where: { $0.pid == old }) { workers[index].retiring = true }
            actions.append(.signal(old, SIGQUIT))
            reload.step = .retiring(old: old)
        case .replacing, .retiring:
            return
        }
        state = .reloading(reload)
    }
}
