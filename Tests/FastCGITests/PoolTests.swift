#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Hashing
import TestSupport
import XCTest

/// The process pool behind a real nginx: round trips, load, crashes, signals, time limits.
final class PoolTests: XCTestCase {
    func startStack(_ name: String, settings: [String: String] = [:]) throws -> LocalStack {
        let stack = try LocalStack(name, settings: settings)
        addTeardownBlock { stack.stop() }
        return stack
    }

    func testGetAndPostRoundTripThroughNginx() throws {
        let stack = try startStack("roundtrip")
        let ping = try stack.http.get("/api/media/_ping", headers: ["X-Request-Id": "client-id-42"])
        XCTAssertEqual(ping.status, 200)
        XCTAssertEqual(ping.json()["status"] as? String, "ok")
        XCTAssertEqual(ping.header("Content-Type"), "application/json; charset=utf-8")
        XCTAssertEqual(ping.header("X-Request-Id"), "client-id-42", "a sane client id is echoed")
        let insane = try stack.http.get("/api/media/_ping", headers: ["X-Request-Id": "bad id\u{7f}<script>"])
        XCTAssertNotEqual(insane.header("X-Request-Id"), "bad id\u{7f}<script>")
        XCTAssertEqual(insane.header("X-Request-Id")?.count, 24, "an insane one is replaced by a generated id")

        var generator = SystemRandomNumberGenerator()
        // Under the 1 MiB nginx allows outside uploads, over its 256 KiB in-memory buffer:
        // the body goes through nginx's temp file and several FastCGI records.
        let body = (0..<1_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let echo = try stack.http.send(method: "POST", path: "/api/media/_debug/echo",
                                       headers: ["Content-Type": "application/octet-stream"], body: body)
        XCTAssertEqual(echo.status, 200, echo.text)
        XCTAssertEqual(echo.json()["sha256"] as? String, SHA256.hex(body))
        XCTAssertEqual(echo.json()["bytes"] as? String, "1000000")

        let log = stack.log()
        XCTAssertTrue(log.contains("\"event\":\"request\""), "one JSON access line per request")
        XCTAssertTrue(log.contains("\"requestId\":\"client-id-42\""))
    }

    /// A response leaves as FastCGI records of up to 64 KB, 16 to a writev: sizes around
    /// each boundary come through nginx whole and in order, headers included.
    func testResponsesOfEverySizeCrossRecordAndWriteBoundariesIntact() throws {
        let stack = try startStack("sizes")
        let record = 65_528
        for count in [0, 1, record - 1, record, record + 1, 16 * record, 16 * record + 1, 3_000_000] {
            let response = try stack.http.get("/api/media/_debug/bytes?count=\(count)")
            XCTAssertEqual(response.status, 200, "\(count) bytes")
            XCTAssertEqual(response.header("Content-Length"), String(count))
            XCTAssertEqual(response.header("Content-Type"), "application/octet-stream")
            XCTAssertEqual(response.body, (0..<count).map { UInt8(truncatingIfNeeded: $0 % 251) }, "\(count) bytes")
        }
        // A HEAD has the head alone; the next request on the same worker is unaffected.
        let head = try stack.http.send(method: "HEAD", path: "/api/media/_debug/bytes?count=10", headers: [:], body: nil)
        XCTAssertEqual(head.status, 200)
        XCTAssertTrue(head.body.isEmpty)
        XCTAssertEqual(try stack.http.get("/api/media/_ping").status, 200)
    }

    func testTwoHundredConcurrentRequestsSpreadOverTheWorkers() throws {
        let stack = try startStack("concurrent", settings: ["MEDIA_WORKERS": "4"])
        let http = stack.http
        let statuses = concurrently(200) { _ in (try? http.get("/api/media/_debug/sleep?ms=10").status) ?? -1 }
        XCTAssertEqual(statuses.filter { $0 == 200 }.count, 200, "statuses: \(Set(statuses))")
        let workers = try stack.status()["workers"] as? [[String: Any]] ?? []
        XCTAssertEqual(workers.count, 4)
        let served = workers.compactMap { ($0["requests"] as? NSNumber)?.intValue }
        XCTAssertTrue(served.allSatisfy { $0 > 0 }, "every worker took requests: \(served)")
        XCTAssertGreaterThanOrEqual(try stack.status()["acceptedConn"] as? Int ?? 0, 200)
    }

    /// libfcgi ends a connection by waiting (up to 2 s) for the other side to close it,
    /// draining what it still sends. A request without a body has nothing more to come:
    /// its worker closes at once and takes the next request while nginx still reads. One
    /// with a body keeps the drain, so that input left unread never resets the response.
    func testABodylessRequestsConnectionIsClosedAtOnceAndOneWithABodyIsDrained() throws {
        let stack = try startStack("close")
        // Whether the worker still holds the connection after the response ended: a byte
        // sent to it then arrives (the drain reads it) or fails because it is closed.
        func workerStillReads(_ params: [String: String], body: [UInt8]) throws -> (Int, Bool) {
            var reads = false
            let response = try stack.fastCGI.request(params: params, stdin: body, halfClose: false) { fd in
                var byte: UInt8 = 0
                reads = send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) == 1
            }
            return (response.status, reads)
        }
        let ping = try workerStillReads(["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/media/_ping"], body: [])
        XCTAssertEqual(ping.0, 200)
        XCTAssertFalse(ping.1, "the worker closed a body-less request's connection without waiting for the peer")
        let body = Array("posted".utf8)
        let echo = try workerStillReads(["REQUEST_METHOD": "POST", "REQUEST_URI": "/api/media/_debug/echo",
                                         "CONTENT_TYPE": "application/octet-stream",
                                         "CONTENT_LENGTH": String(body.count)], body: body)
        XCTAssertEqual(echo.0, 200)
        XCTAssertTrue(echo.1, "a request with a body is drained until the peer closes")
        XCTAssertEqual(try stack.http.get("/api/media/_ping").status, 200)
    }

    func testKilledWorkerIsReplacedWithinASecond() throws {
        let stack = try startStack("kill9")
        let before = try stack.workerPIDs()
        XCTAssertEqual(before.count, 2)
        kill(before[0], SIGKILL)
        let killedAt = Date()
        var replaced = false
        while Date().timeIntervalSince(killedAt) < 1.0 {
            // Requests keep succeeding meanwhile.
            XCTAssertEqual(try stack.http.get("/api/media/_ping").status, 200)
            // One report: two would each see the worker answering them as busy.
            let now = try stack.workerPIDs(states: ["idle", "busy"])
            if Set(now).count == 2, !now.contains(before[0]) { replaced = true; break }
            usleep(20_000)
        }
        XCTAssertTrue(replaced, "a new worker took the killed one's place within a second")
        XCTAssertGreaterThanOrEqual(try stack.status()["restarts"] as? Int ?? 0, 1)
        XCTAssertTrue(stack.log().contains("\"event\":\"worker.exited\""))
    }

    func testSIGTERMLetsTheSlowRequestFinishThenStops() throws {
        let stack = try startStack("sigterm")
        let pool = try XCTUnwrap(stack.poolPID())
        let http = stack.http
        let results = concurrently(2) { index -> Int in
            if index == 0 { return (try? http.get("/api/media/_debug/sleep?ms=1500").status) ?? -1 }
            usleep(300_000)
            kill(pool, SIGTERM)
            return 0
        }
        XCTAssertEqual(results[0], 200, "the in-flight request completed")
        XCTAssertTrue(stack.waitUntil(seconds: 5) { kill(pool, 0) != 0 }, "the pool exited")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stack.socketPath), "the socket was removed")
        XCTAssertTrue(stack.log().contains("\"event\":\"pool.stopped\""))
    }

    func testSIGHUPUnderSteadyLoadFailsNoRequest() throws {
        let stack = try startStack("sighup", settings: ["MEDIA_WORKERS": "2"])
        let before = try stack.workerPIDs()
        let pool = try XCTUnwrap(stack.poolPID())
        let http = stack.http
        let deadline = Date().addingTimeInterval(3)
        let failures = concurrently(5) { index -> [Int] in
            if index == 4 {
                usleep(500_000)
                kill(pool, SIGHUP)
                return []
            }
            var bad: [Int] = []
            while Date() < deadline {
                let status = (try? http.get("/api/media/_debug/sleep?ms=5").status) ?? -1
                if status != 200 { bad.append(status) }
            }
            return bad
        }
        XCTAssertEqual(failures.flatMap { $0 }, [], "no request failed during the rolling restart")
        XCTAssertTrue(stack.waitUntil(seconds: 5) { Set((try? stack.workerPIDs()) ?? []).isDisjoint(with: before) },
                      "every worker was replaced")
        XCTAssertEqual(try stack.workerPIDs().count, 2)
    }

    func testRequestPastTheTimeLimitIsAnsweredAndItsWorkerReplaced() throws {
        let stack = try startStack("timeout", settings: ["MEDIA_REQUEST_TIMEOUT": "1s", "MEDIA_WORKERS": "1"])
        let before = try stack.workerPIDs()
        let started = Date()
        let slow = try stack.http.get("/api/media/_debug/sleep?ms=10000", headers: ["X-Request-Id": "slow-one"])
        XCTAssertTrue([503, 504].contains(slow.status), "status \(slow.status)")
        XCTAssertEqual(slow.errorCode, "request_timeout")
        XCTAssertEqual(slow.header("X-Request-Id"), "slow-one")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertTrue(stack.waitUntil(seconds: 3) { ((try? stack.workerPIDs()) ?? before) != before })
        XCTAssertEqual(try stack.http.get("/api/media/_ping").status, 200)
        XCTAssertTrue(stack.log().contains("\"event\":\"worker.time_limit\""))
        XCTAssertEqual(try stack.status()["timeLimitKills"] as? Int, 1)
    }

    func testWorkerIsRecycledAfterMaxRequests() throws {
        let stack = try startStack("recycle", settings: ["MEDIA_MAX_REQUESTS": "5", "MEDIA_WORKERS": "1"])
        let first = try stack.workerPIDs()
        for _ in 0..<12 { XCTAssertEqual(try stack.http.get("/api/media/_ping").status, 200) }
        XCTAssertNotEqual(try stack.workerPIDs(), first)
        XCTAssertGreaterThanOrEqual(try stack.status()["restarts"] as? Int ?? 0, 2)
        XCTAssertGreaterThanOrEqual(try stack.status()["acceptedConn"] as? Int ?? 0, 12)
    }

    func testMalformedRequestsGetJSONErrorsAndTheWorkerKeepsServing() throws {
        let stack = try startStack("malformed", settings: ["MEDIA_WORKERS": "1"])
        let base = ["REQUEST_METHOD": "POST", "REQUEST_URI": "/api/media/_debug/echo", "SERVER_PROTOCOL": "HTTP/1.1"]

        let noLength = try stack.fastCGI.request(params: base, stdin: Array("hello".utf8))
        XCTAssertEqual(noLength.status, 411)
        XCTAssertEqual(noLength.errorCode, "length_required")

        var short = base
        short["CONTENT_LENGTH"] = "100"
        let truncated = try stack.fastCGI.request(params: short, stdin: Array("only twenty bytes!!!".utf8))
        XCTAssertEqual(truncated.status, 400)
        XCTAssertEqual(truncated.errorCode, "truncated_body")

        var nonsense = base
        nonsense["CONTENT_LENGTH"] = "-5"
        XCTAssertEqual(try stack.fastCGI.request(params: nonsense, stdin: []).status, 400)

        let unknown = try stack.http.get("/api/media/no/such/route")
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.errorCode, "not_found")

        let wrongMethod = try stack.http.send(method: "DELETE", path: "/api/media/_ping", body: nil)
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(wrongMethod.errorCode, "method_not_allowed")
        XCTAssertEqual(wrongMethod.header("Allow"), "GET")

        let badEncoding = try stack.http.get("/api/media/%ZZ")
        XCTAssertEqual(badEncoding.status, 400)

        XCTAssertEqual(try stack.http.get("/api/media/_ping").status, 200)
        XCTAssertEqual(try stack.status()["restarts"] as? Int, 0, "no worker died on the way")
    }

    func testStatusReportHasPHPFPMFields() throws {
        let stack = try startStack("status")
        let status = try stack.status()
        for field in ["pool", "startTime", "startSince", "acceptedConn", "activeProcesses", "idleProcesses",
                      "totalProcesses", "maxChildrenReached", "slowRequests", "restarts", "workers", "checks"] {
            XCTAssertNotNil(status[field], "missing \(field)")
        }
        let workers = try XCTUnwrap(status["workers"] as? [[String: Any]])
        let busy = try XCTUnwrap(workers.first { $0["state"] as? String == "busy" }, "the worker serving _status is busy")
        XCTAssertEqual(busy["requestURI"] as? String, "/api/media/_status")
        XCTAssertNotNil(busy["requestDurationMs"])
        XCTAssertEqual(status["totalProcesses"] as? Int, 2)
    }

    func testALiveSocketIsRefusedAndAStaleOneReplaced() throws {
        let stack = try startStack("socket")
        var environment = stack.serverEnvironment()
        let second = try runProcess(TestEnvironment.binary, ["serve"], environment: environment)
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(second.text.contains("another server is listening"), second.text)
        XCTAssertEqual(try stack.http.get("/api/media/_ping").status, 200, "the running pool is untouched")

        // A crashed pool's leftover: a socket file nobody listens on.
        let stale = "/tmp/mt-stale-\(UInt32.random(in: 0...UInt32.max)).sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(stale.utf8) + [0]) }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(fd)
        XCTAssertTrue(FileManager.default.fileExists(atPath: stale))
        environment["MEDIA_SOCKET"] = stale
        let process = try ChildProcess(TestEnvironment.binary, ["serve"], environment: environment)
        defer {
            process.terminate()
            process.wait()
        }
        let client = FastCGIClient(socketPath: stale)
        XCTAssertTrue(stack.waitUntil(seconds: 5) {
            (try? client.request(params: ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/media/_ping"], stdin: []).status) == 200
        }, "the pool replaced the stale socket and serves on it")
    }

    func testWorkerStartedBySpawnFCGIServesOnItsOwn() throws {
        let directory = "/tmp/mt-spawn-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socketPath = directory + "/worker.sock"
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MEDIA_") }
        environment["DATABASE_URL"] = TestEnvironment.databaseURL
        environment["MEDIA_STORAGE_ROOT"] = directory + "/uploads"
        environment["MEDIA_OWNERS_FILE"] = TestEnvironment.repository.path + "/prisma-compat/owners.json"
        let process = try ChildProcess("/usr/bin/spawn-fcgi", ["-n", "-s", socketPath, "-M", "0600", "--",
                                                               TestEnvironment.binary, "worker"],
                                       environment: environment)
        defer {
            process.terminate()
            process.wait()
        }
        let client = FastCGIClient(socketPath: socketPath)
        var response: HTTPResponseMessage?
        for _ in 0..<100 where response == nil {
            response = try? client.request(params: ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/media/_ping"], stdin: [])
            if response == nil { usleep(50_000) }
        }
        XCTAssertEqual(response?.status, 200)
        let status = try client.request(params: ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/media/_status"], stdin: [])
        XCTAssertEqual(status.json()["totalProcesses"] as? Int, 1)
    }

    func testBadConfigurationIsRefusedWithOneLinePerProblem() throws {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MEDIA_") && $0.key != "DATABASE_URL" }
        environment["MEDIA_WORKERS"] = "lots"
        environment["MEDIA_SOCKET"] = "relative.sock"
        environment["MEDIA_REQUEST_TIMEOUT"] = "soon"
        let result = try runProcess(TestEnvironment.binary, ["serve"], environment: environment)
        XCTAssertEqual(result.status, 78)
        for name in ["MEDIA_WORKERS=lots", "MEDIA_SOCKET=relative.sock", "MEDIA_REQUEST_TIMEOUT=soon", "DATABASE_URL"] {
            XCTAssertTrue(result.text.contains(name), "no line about \(name) in:\n\(result.text)")
        }
        let help = try runProcess(TestEnvironment.binary, ["--help"])
        XCTAssertEqual(help.status, 0)
        for word in ["serve", "worker", "check-schema", "MEDIA_WORKERS", "MEDIA_REQUEST_TIMEOUT", "DATABASE_URL"] {
            XCTAssertTrue(help.text.contains(word), "help lacks \(word)")
        }
    }
}
