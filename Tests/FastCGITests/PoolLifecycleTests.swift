#if canImport(Glibc)
import Glibc
#endif
@testable import FastCGI
import XCTest

/// The pool's state machine on its own: no processes, no clock, no scoreboard.
final class PoolLifecycleTests: XCTestCase {
    func testStartSpawnsOneWorkerPerSlot() {
        let pool = Harness(workers: 3)
        XCTAssertEqual(pool.alive.count, 3)
        XCTAssertEqual(Set(pool.lifecycle.workers.map(\.slot)), [0, 1, 2])
        XCTAssertTrue(pool.spawns.allSatisfy { !$0.restart }, "first workers are no restarts")
        XCTAssertEqual(pool.logged("worker.started").count, 3)
        XCTAssertEqual(pool.lifecycle.state, .running)
    }

    func testCrashRespawnsWithDoublingBackOffThatResets() {
        var pool = Harness(workers: 1)
        for delay: Int64 in [100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000] {
            pool.exit(pool.alive[0], .exited(code: 1))
            pool.expectRespawn(after: delay)
        }
        XCTAssertTrue(pool.spawns.dropFirst().allSatisfy(\.restart))

        // One that lived more than 10 s resets the back-off.
        pool.tick(after: 10_001)
        pool.exit(pool.alive[0], .signalled(SIGSEGV))
        pool.expectRespawn(after: 0)
        pool.exit(pool.alive[0], .exited(code: 1))
        pool.expectRespawn(after: 100)
        pool.exit(pool.alive[0], .exited(code: 1))
        pool.expectRespawn(after: 200)

        // So does a clean exit (max requests reached), which is replaced at once.
        pool.exit(pool.alive[0], .exited(code: 0))
        pool.expectRespawn(after: 0)
        pool.exit(pool.alive[0], .exited(code: 1))
        pool.expectRespawn(after: 100)
        XCTAssertEqual(pool.logged("worker.exited").last?["exitCode"], "1")
        XCTAssertEqual(pool.lifecycle.workers.count, 1)
    }

    func testSpawnFailureBacksOffLikeACrash() {
        var pool = Harness(workers: 1, failingSpawns: 1)
        XCTAssertEqual(pool.alive, [])
        pool.expectRespawn(after: 100)
        XCTAssertEqual(pool.spawns.last?.restart, true)
    }

    func testRequestPastTheTimeLimitGetsSIGUSR2ThenSIGKILLAndIsNoCrash() {
        var pool = Harness(workers: 1, requestTimeout: 1_000)
        let worker = pool.alive[0]
        let request = PoolLifecycle.Request(startedAt: pool.now, method: "GET", uri: "/slow", requestId: "slow-one")
        pool.tick(after: 1_000, busy: [worker: request])
        XCTAssertEqual(pool.signals.count, 0, "exactly at the limit is still in time")
        pool.tick(after: 1, busy: [worker: request])
        XCTAssertEqual(pool.signals.map(\.signal), [SIGUSR2])
        XCTAssertEqual(pool.timeLimitKills, 1)
        let logged = pool.logged("worker.time_limit")
        XCTAssertEqual(logged.first?["requestId"], "slow-one")
        XCTAssertEqual(logged.first?["elapsedMs"], "1001")
        XCTAssertEqual(logged.first?["limitMs"], "1000")

        pool.tick(after: 2_000, busy: [worker: request])
        XCTAssertEqual(pool.signals.map(\.signal), [SIGUSR2], "two seconds to answer 504 and leave")
        pool.tick(after: 1, busy: [worker: request])
        XCTAssertEqual(pool.signals.map(\.signal), [SIGUSR2, SIGKILL])
        XCTAssertEqual(pool.timeLimitKills, 1)

        pool.exit(worker, .signalled(SIGKILL))
        XCTAssertEqual(pool.logged("worker.exited").last?["reason"], "time-limit")
        XCTAssertEqual(pool.logged("worker.exited").last?["signal"], String(SIGKILL))
        pool.expectRespawn(after: 0)
        // Not a crash: the back-off was not raised.
        pool.exit(pool.alive[0], .exited(code: 1))
        pool.expectRespawn(after: 100)
    }

    func testSIGHUPReplacesTheWorkersOneAtATime() {
        var pool = Harness(workers: 3)
        let old = pool.alive
        pool.send(.reload)
        XCTAssertEqual(pool.logged("pool.reloading").first?["workers"], "3")
        let spawnedBefore = pool.spawns.count
        for (index, worker) in old.enumerated() {
            pool.tick(idle: pool.alive)
            XCTAssertEqual(pool.spawns.count, spawnedBefore + index + 1, "one replacement per step")
            let replacement = pool.alive.last!
            pool.tick(idle: pool.alive.filter { $0 != replacement })
            XCTAssertFalse(pool.wasSignalled(worker, SIGQUIT), "the old worker stays until its replacement accepts")
            pool.tick(idle: [replacement])
            XCTAssertTrue(pool.wasSignalled(worker, SIGQUIT))
            XCTAssertEqual(pool.lifecycle.workers.first { $0.pid == worker }?.retiring, true)
            pool.tick(idle: pool.alive)
            XCTAssertEqual(pool.spawns.count, spawnedBefore + index + 1, "the next step waits until the old one left")
            pool.exit(worker)
        }
        pool.tick(idle: pool.alive)
        pool.expectAllNew(workers: 3, old: old)
        XCTAssertLessThanOrEqual(pool.mostAlive, 4)
        XCTAssertFalse(pool.spawns.contains(where: \.restart), "a replacement is no restart")
    }

    func testAReplacementBusyAtEveryTickIsReadyAndTheOldWorkerRetires() {
        var pool = Harness(workers: 2)
        let old = pool.alive
        pool.send(.reload)
        pool.tick()
        let replacement = pool.alive.last!
        let request = PoolLifecycle.Request(startedAt: pool.now, method: "POST", uri: "/api/media/upload", requestId: "r")
        pool.tick(busy: [replacement: request])
        XCTAssertTrue(pool.wasSignalled(old[0], SIGQUIT), "a replacement serving a request is ready")
    }

    func testReplacementThatDiesDuringAReloadIsReplacedAndTheOldWorkerStillRetired() {
        var pool = Harness(workers: 2)
        let old = pool.alive
        pool.send(.reload)
        pool.tick()
        let first = pool.alive.last!
        pool.exit(first, .exited(code: 1))
        pool.tick(after: 0, idle: pool.alive)
        XCTAssertFalse(pool.wasSignalled(old[0], SIGQUIT), "no replacement is ready yet")
        pool.expectRespawn(after: 100)
        XCTAssertEqual(pool.spawns.last?.restart, true)
        let second = pool.alive.last!
        pool.tick(idle: [second])
        XCTAssertTrue(pool.wasSignalled(old[0], SIGQUIT), "the old worker is retired once the new replacement is ready")
        pool.finishReload()
        pool.expectAllNew(workers: 2, old: old)
        XCTAssertLessThanOrEqual(pool.mostAlive, 3)
    }

    func testOldWorkerThatDiesDuringItsStepIsSucceededByItsReplacement() {
        var pool = Harness(workers: 2)
        let old = pool.alive
        pool.send(.reload)
        pool.tick()
        pool.exit(old[0], .exited(code: 1))
        pool.finishReload()
        pool.expectAllNew(workers: 2, old: old)
        XCTAssertEqual(pool.spawns.count, 4, "two first workers, two replacements, no extra spawn")
    }

    func testOldWorkerThatDiesWhileItsReplacementBacksOffIsSucceededByIt() {
        var pool = Harness(workers: 2)
        let old = pool.alive
        pool.send(.reload)
        pool.tick()
        pool.exit(pool.alive.last!, .exited(code: 1))
        pool.exit(old[0], .exited(code: 0))
        pool.finishReload()
        pool.expectAllNew(workers: 2, old: old)
        XCTAssertEqual(pool.spawns.count, 5, "two first workers, one replacement that died, two successors")
    }

    func testStopDuringAReloadAbandonsItAndStopsEveryWorker() {
        for replacementCrashed in [false, true] {
            var pool = Harness(workers: 2)
            pool.send(.reload)
            pool.tick()
            if replacementCrashed { pool.exit(pool.alive.last!, .exited(code: 1)) }
            let spawned = pool.spawns.count
            pool.send(.stop(signal: SIGTERM))
            XCTAssertEqual(pool.logged("pool.stopping").first?["workers"], String(pool.alive.count))
            XCTAssertEqual(Set(pool.signals.filter { $0.signal == SIGQUIT }.map(\.pid)), Set(pool.alive),
                           "the replacement leaves with the old workers")
            pool.send(.reload)
            XCTAssertEqual(pool.logged("pool.reloading").count, 1, "no reload while stopping")
            for worker in pool.alive {
                pool.tick(after: 1_000, idle: pool.alive)
                pool.exit(worker)
            }
            pool.tick(after: 10_000)
            XCTAssertEqual(pool.spawns.count, spawned, "nothing is started once stopping")
            XCTAssertTrue(pool.lifecycle.isFinished)
        }
    }

    func testCrashLoopDuringAReloadKeepsTheOldWorkerUntilAReplacementSurvives() {
        var pool = Harness(workers: 2)
        let old = pool.alive
        pool.send(.reload)
        pool.tick()
        for delay: Int64 in [100, 200, 400, 800, 1_600] {
            pool.exit(pool.alive.last!, .exited(code: 1))
            pool.tick(after: 0, idle: pool.alive)
            XCTAssertFalse(pool.wasSignalled(old[0], SIGQUIT))
            pool.expectRespawn(after: delay)
            XCTAssertLessThanOrEqual(pool.alive.count, 3)
        }
        XCTAssertFalse(pool.signals.contains { old.contains($0.pid) }, "no old worker left without a ready replacement")
        XCTAssertEqual(pool.lifecycle.workers.count, 3)
        pool.finishReload()
        pool.expectAllNew(workers: 2, old: old)
        XCTAssertLessThanOrEqual(pool.mostAlive, 3)
    }

    func testSIGHUPDuringAReloadIsLoggedAndIgnored() {
        var pool = Harness(workers: 2)
        let old = pool.alive
        pool.send(.reload)
        pool.tick()
        let generation = pool.lifecycle.generation
        pool.send(.reload)
        XCTAssertEqual(pool.logged("pool.reload_in_progress").count, 1)
        XCTAssertEqual(pool.lifecycle.generation, generation)
        pool.finishReload()
        pool.expectAllNew(workers: 2, old: old)
        XCTAssertEqual(pool.spawns.count, 4)

        pool.send(.reload)
        XCTAssertEqual(pool.logged("pool.reloading").count, 2, "once done, a SIGHUP reloads again")
    }

    func testStopResendsSIGQUITThenKillsAtTheDeadline() {
        var pool = Harness(workers: 2, stopTimeout: 3_000)
        let workers = pool.alive
        pool.send(.stop(signal: SIGTERM))
        XCTAssertEqual(pool.signals.map(\.signal), [SIGQUIT, SIGQUIT])
        pool.tick(after: 499)
        XCTAssertEqual(pool.signals.count, 2)
        pool.tick(after: 1)
        XCTAssertEqual(pool.signals.count, 4, "SIGQUIT is re-sent every 500 ms")
        while pool.now + 100 < pool.startedAt + 3_000 { pool.tick(after: 100) }
        pool.tick(after: pool.startedAt + 2_999 - pool.now)
        XCTAssertFalse(pool.signals.contains { $0.signal == SIGKILL })
        XCTAssertEqual(pool.logged("pool.stop_timeout").count, 0)
        pool.tick(after: 1)
        XCTAssertEqual(pool.logged("pool.stop_timeout").first?["workers"], "2")
        XCTAssertEqual(Set(pool.signals.filter { $0.signal == SIGKILL }.map(\.pid)), Set(workers))
        for worker in workers { pool.exit(worker, .signalled(SIGKILL)) }
        XCTAssertTrue(pool.lifecycle.isFinished)
    }

    func testWorkersLeavingDuringAStopAreNotRespawned() {
        var pool = Harness(workers: 2)
        let workers = pool.alive
        pool.send(.stop(signal: SIGINT))
        pool.send(.stop(signal: SIGTERM))
        XCTAssertEqual(pool.logged("pool.stopping").count, 1, "a second stop signal changes nothing")
        pool.exit(workers[0], .exited(code: 0))
        pool.tick(after: 1_000)
        XCTAssertFalse(pool.lifecycle.isFinished)
        pool.exit(workers[1], .exited(code: 1))
        pool.tick(after: 10_000)
        XCTAssertEqual(pool.spawns.count, 2)
        XCTAssertTrue(pool.lifecycle.isFinished)
    }
}

/// Plays the supervisor's part: a spawn gets the next made-up pid at once, signals and
/// log lines are recorded, and time only moves when a test says so.
private struct Harness {
    var lifecycle: PoolLifecycle
    let startedAt: Int64 = 1_000_000
    private(set) var now: Int64
    private(set) var alive: [pid_t] = []
    private(set) var mostAlive = 0
    private(set) var spawns: [(pid: pid_t, restart: Bool)] = []
    private(set) var signals: [(pid: pid_t, signal: Int32)] = []
    private(set) var logs: [(event: String, fields: [String: String])] = []
    private(set) var timeLimitKills = 0
    private var failingSpawns: Int
    private var nextPid: pid_t = 100

    init(workers: Int, requestTimeout: Int64 = 0, stopTimeout: Int64 = 5_000, failingSpawns: Int = 0) {
        lifecycle = PoolLifecycle(settings: .init(workers: workers, slots: workers * 2,
                                                  requestTimeoutMilliseconds: requestTimeout,
                                                  stopTimeoutMilliseconds: stopTimeout))
        now = startedAt
        self.failingSpawns = failingSpawns
        send(.start)
    }

    mutating func send(_ event: PoolLifecycle.Event) {
        for action in lifecycle.handle(event, now: now) {
            switch action {
            case .spawn(let slot, let restart):
                guard failingSpawns == 0 else {
                    failingSpawns -= 1
                    send(.spawnFailed(slot: slot))
                    continue
                }
                let pid = nextPid
                nextPid += 1
                alive.append(pid)
                mostAlive = max(mostAlive, alive.count)
                spawns.append((pid, restart))
                send(.spawned(slot: slot, pid: pid))
            case .signal(let pid, let signal):
                signals.append((pid, signal))
            case .releaseSlot:
                break
            case .countTimeLimitKill:
                timeLimitKills += 1
            case .log(_, let event, let fields):
                logs.append((event, Dictionary(fields.map { field -> (String, String) in
                    switch field.value {
                    case .string(let text): (field.key, text)
                    case .int(let number): (field.key, String(number))
                    case .double(let number): (field.key, String(number))
                    case .bool(let flag): (field.key, String(flag))
                    }
                }, uniquingKeysWith: { $1 })))
            }
        }
    }

    /// Time passes; `idle` workers' slots show them waiting in accept, `busy` ones a request.
    mutating func tick(after milliseconds: Int64 = 100, idle: [pid_t] = [],
                       busy: [pid_t: PoolLifecycle.Request] = [:]) {
        now += milliseconds
        var activity = busy.mapValues { PoolLifecycle.Activity.busy($0) }
        for pid in idle { activity[pid] = .idle }
        send(.tick(activity: activity))
    }

    mutating func exit(_ pid: pid_t, _ status: PoolLifecycle.ExitStatus = .exited(code: 0)) {
        alive.removeAll { $0 == pid }
        send(.exited(pid: pid, status))
    }

    /// Asserts that the next spawn comes exactly `delay` ms from now.
    mutating func expectRespawn(after delay: Int64, file: StaticString = #filePath, line: UInt = #line) {
        let before = spawns.count
        if delay > 0 {
            tick(after: delay - 1)
            XCTAssertEqual(spawns.count, before, "nothing before \(delay) ms", file: file, line: line)
        }
        tick(after: delay > 0 ? 1 : 0)
        XCTAssertEqual(spawns.count, before + 1, "a worker after \(delay) ms", file: file, line: line)
    }

    /// Workers that accept once started and leave when asked, until the reload is over.
    mutating func finishReload(file: StaticString = #filePath, line: UInt = #line) {
        for _ in 0..<100 {
            guard case .reloading = lifecycle.state else { return }
            tick(idle: alive)
            for worker in alive where wasSignalled(worker, SIGQUIT) { exit(worker) }
        }
        XCTFail("the reload never ended", file: file, line: line)
    }

    func expectAllNew(workers: Int, old: [pid_t], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(lifecycle.state, .running, file: file, line: line)
        XCTAssertEqual(alive.count, workers, "alive: \(alive)", file: file, line: line)
        XCTAssertEqual(lifecycle.workers.map(\.pid).sorted(), alive.sorted(), file: file, line: line)
        XCTAssertTrue(Set(alive).isDisjoint(with: old), "no old worker left: \(alive)", file: file, line: line)
        XCTAssertTrue(lifecycle.workers.allSatisfy { $0.generation == lifecycle.generation && !$0.retiring },
                      "every worker runs the new binary", file: file, line: line)
    }

    func wasSignalled(_ pid: pid_t, _ signal: Int32) -> Bool {
        signals.contains { $0.pid == pid && $0.signal == signal }
    }

    func logged(_ event: String) -> [[String: String]] {
        logs.filter { $0.event == event }.map(\.fields)
    }
}
