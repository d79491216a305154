import FastCGI
import Hashing
import Foundation
import Media
import ServerLog
#if canImport(Glibc)
import Glibc
#endif

/// `_ping` and `_status` (nginx allows both from loopback only), and, when
/// MEDIA_DEBUG_ENDPOINTS is on, the `_debug` routes the pool tests drive.
struct OperationsRoutes {
    let scoreboard: Scoreboard
    let checks: [String: () -> String]
    /// Generation jobs of the last 24 hours per provider and outcome (from the jobs table,
    /// so every worker reports the same host-wide figures); nil when the database is down.
    let generationMetrics: () -> [JobRepository.ProviderMetric]?

    func register(in router: inout Router, debugEndpoints: Bool) {
        router.add("GET", "/api/media/_ping") { _ in
            HTTPResponse(status: 200, headers: [("Content-Type", "application/json; charset=utf-8")],
                         body: Array("{\"status\":\"ok\"}".utf8))
        }
        router.add("GET", "/api/media/_status") { _ in try .json(self.status()) }
        if debugEndpoints {
            router.add("GET", "/api/media/_debug/sleep") { request in
                let milliseconds = max(0, min(Int(request.queryValue("ms") ?? "") ?? 0, 600_000))
                usleep(UInt32(milliseconds) * 1000)
                return try .json(["slept": milliseconds])
            }
            router.add("POST", "/api/media/_debug/echo") { request in
                // Streams the body through SHA-256 without holding it, like an upload does.
                let length = try request.body.contentLength()
                var digest = SHA256()
                var buffer = [UInt8](repeating: 0, count: 64 * 1024)
                var total = 0
                while true {
                    let got = try buffer.withUnsafeMutableBytes { try request.body.read(into: $0) }
                    if got == 0 { break }
                    digest.update(buffer[0..<got])
                    total += got
                }
                return try .json(["bytes": "\(total)", "declared": "\(length)", "sha256": digest.finalizeHex()])
            }
            router.add("GET", "/api/media/_debug/bytes") { request in
                // `count` bytes of a known pattern: responses of any size, record boundaries included.
                let count = max(0, min(Int(request.queryValue("count") ?? "") ?? 0, 16 << 20))
                return HTTPResponse(status: 200, headers: [("Content-Type", "application/octet-stream")],
                                    body: (0..<count).map { UInt8(truncatingIfNeeded: $0 % 251) })
            }
        }
    }

    struct Status: Encodable {
        struct Worker: Encodable {
            let pid: Int32
            let state: String
            let startedAt: String
            let requests: UInt64
            let requestMethod: String?
            let requestURI: String?
            let requestId: String?
            let requestDurationMs: Int64?
        }
        let pool: String
        let startTime: String
        let startSince: Int64
        let acceptedConn: UInt64
        let activeProcesses: Int
        let idleProcesses: Int
        let totalProcesses: Int
        let maxChildrenReached: UInt64
        let slowRequests: UInt64
        let restarts: UInt64
        let timeLimitKills: UInt64
        let checks: [String: String]
        let generation: [JobRepository.ProviderMetric]?
        let workers: [Worker]
    }

    func status() -> Status {
        let now = wallClockMilliseconds()
        let pool = scoreboard.snapshot(now: now)
        func date(_ milliseconds: Int64) -> String { Log.timestamp(Date(timeIntervalSince1970: Double(milliseconds) / 1000)) }
        return Status(
            pool: "media",
            startTime: date(pool.startedAtMilliseconds),
            startSince: (now - pool.startedAtMilliseconds) / 1000,
            acceptedConn: pool.acceptedRequests,
            activeProcesses: pool.activeWorkers,
            idleProcesses: pool.idleWorkers,
            totalProcesses: pool.workers.count,
            maxChildrenReached: pool.maxChildrenReached,
            slowRequests: pool.slowRequests,
            restarts: pool.restarts,
            timeLimitKills: pool.timeLimitKills,
            checks: checks.mapValues { $0() },
            generation: generationMetrics(),
            workers: pool.workers.map { worker in
                let busy = worker.requestDurationMilliseconds != nil
                return Status.Worker(pid: worker.pid, state: worker.state, startedAt: date(worker.startedAtMilliseconds),
                                     requests: worker.requests,
                                     requestMethod: busy ? worker.requestMethod : nil,
                                     requestURI: busy ? worker.requestURI : nil,
                                     requestId: busy ? worker.requestId : nil,
                                     requestDurationMs: worker.requestDurationMilliseconds)
            })
    }
}
