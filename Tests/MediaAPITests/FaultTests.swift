#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TestSupport
import XCTest

/// Faults injected under a steady load of uploads and library reads (FaultLoad): killed
/// workers, a killed database, a full disk, a frozen S3 server, a reload, a slow client.
/// Afterwards the stack must have kept exactly what it said it kept (FaultLoad.verify).
final class FaultTests: XCTestCase {
    func testTenWorkerKillsUnderFourUploadingClientsLoseNothing() throws {
        let stack = try LocalStack("kill", settings: ["MEDIA_WORKERS": "4"])
        defer { stack.stop() }
        let load = try FaultLoad(stack)
        XCTAssertTrue(load.waitForUploads(4))
        for _ in 0..<10 {
            let workers = try stack.workerPIDs()
            let victim = try XCTUnwrap(workers.randomElement())
            kill(victim, SIGKILL)
            // The pool replaces it before the next kill: four workers again, the victim gone.
            XCTAssertTrue(stack.waitUntil(seconds: 10) {
                let now = (try? stack.workerPIDs()) ?? []
                return now.count == 4 && !now.contains(victim)
            }, "the pool replaced worker \(victim)")
            usleep(200_000)
        }
        XCTAssertTrue(load.waitForUploads(load.answered + 4))
        load.stop()
        XCTAssertGreaterThan(load.succeeded.count, 0)
        try load.verify(lostAnswers: 10)
    }

    func testMariaDBKilledAndRestartedMidLoadLosesNothing() throws {
        let runDirectory = try XCTUnwrap(ProcessInfo.processInfo.environment["MEDIA_RUN_DIR"], "run ./scripts/test")
        let stack = try LocalStack("dbkill")
        defer { stack.stop() }
        addTeardownBlock { _ = try? runProcess("/bin/bash", [TestEnvironment.repository.path + "/scripts/stack", "db-up"]) }
        let databasePID = try XCTUnwrap(pid_t(String(contentsOfFile: runDirectory + "/mariadb.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        try outage(stack, answering: "database_unavailable", stop: { kill(databasePID, SIGKILL) }, resume: {
            let restarted = try runProcess("/bin/bash", [TestEnvironment.repository.path + "/scripts/stack", "db-up"])
            XCTAssertEqual(restarted.status, 0, restarted.text)
        })
    }

    /// A dependency down mid-load: uploads meanwhile answer `code`, succeed again on their
    /// own once `resume` ran, and nothing is lost or left behind.
    func outage(_ stack: LocalStack, answering code: String, stop: () throws -> Void,
                resume: () throws -> Void) throws {
        let load = try FaultLoad(stack)
        XCTAssertTrue(load.waitForUploads(4))
        try stop()
        let before = load.answered
        let answered = load.waitForUploads(before + 4)
        try resume()
        XCTAssertTrue(answered, "uploads answer (\(code)) while it is down")
        let resumed = load.succeeded.count
        XCTAssertTrue(stack.waitUntil(seconds: 20) { load.succeeded.count >= resumed + 4 }, "uploads succeed again")
        load.stop()
        XCTAssertGreaterThan(load.failed.count, 0, "some uploads met the outage")
        for upload in load.failed {
            XCTAssertEqual(upload.code, code, "\(upload)")
        }
        try load.verify()
    }

    /// Half a megabyte left: the load fills it, its uploads failing wherever the space runs
    /// out (the staged body, a variant, the original's folder).
    func testAFullStorageRootAnswers507AndResumesOnceSpaceIsFreed() throws {
        try diskFull(origin: [:], ballastBlocks: ["count=56"])
    }

    /// With the bucket origin the storage root holds only the staging area (whose files are
    /// gone after each upload): filled up entirely.
    func testAFullStagingAreaAnswers507AndResumesOnceSpaceIsFreed() throws {
        try diskFull(origin: TestOrigin.bucketOrigin(signed: false), ballastBlocks: [])
    }

    /// Mounts a 4 MiB tmpfs as the storage root, writes a ballast file of `ballastBlocks`
    /// (64 KiB each; none: until the disk is full), runs the load until uploads fail: each
    /// failure is a JSON 507, and removing the ballast lets uploads succeed again.
    func diskFull(origin: [String: String], ballastBlocks: [String]) throws {
        let root = "/tmp/mt-full-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let mounted = try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", root])
        guard mounted.status == 0 else { throw XCTSkip("cannot mount a tmpfs (needs root): \(mounted.text)") }
        defer {
            _ = try? runProcess("/bin/umount", ["-l", root])
            try? FileManager.default.removeItem(atPath: root)
        }
        let stack = try LocalStack("full", settings: origin.merging(["MEDIA_STORAGE_ROOT": root]) { $1 })
        defer { stack.stop() }
        let ballast = root + "/.ballast"
        let filled = try runProcess("/bin/dd", ["if=/dev/zero", "of=" + ballast, "bs=64k"] + ballastBlocks)
        XCTAssertTrue(filled.status == 0 || filled.text.contains("No space left"), filled.text)

        let load = try FaultLoad(stack, clients: 2)
        XCTAssertTrue(stack.waitUntil(seconds: 40) { load.failed.count >= 6 }, "the disk filled up: \(load.answered) uploads")
        for upload in load.failed {
            XCTAssertEqual(upload.status, 507, "\(upload)")
            XCTAssertEqual(upload.code, "insufficient_storage", "\(upload)")
        }
        try FileManager.default.removeItem(atPath: ballast)
        let before = load.succeeded.count
        XCTAssertTrue(stack.waitUntil(seconds: 20) { load.succeeded.count >= before + 2 }, "uploads succeed once space is freed")
        load.stop()
        XCTAssertTrue(stack.log().contains("storage.full"), "the full disk is logged")
        try load.verify()
    }

    func testTheS3ServerFrozenAndResumedMidLoadLosesNothing() throws {
        let pidFile = try XCTUnwrap(ProcessInfo.processInfo.environment["MEDIA_TEST_S3_PID_FILE"], "run ./scripts/test")
        let serverPID = try XCTUnwrap(pid_t(String(contentsOfFile: pidFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        // moto keeps its objects in memory: frozen (SIGSTOP), never killed.
        let stack = try LocalStack("s3stop", settings: TestOrigin.bucketOrigin(signed: false).merging([
            "MEDIA_R2_TIMEOUT": "1s", "MEDIA_R2_MAX_ATTEMPTS": "2", "MEDIA_R2_BACKOFF": "100ms",
        ]) { $1 })
        defer { stack.stop() }
        try outage(stack, answering: "storage_unavailable", stop: { kill(serverPID, SIGSTOP) },
                   resume: { kill(serverPID, SIGCONT) })
    }

    /// Three reloads under the load, each a rolling restart that replaces every worker.
    func testSIGHUPReloadsDuringUploadsFailNoRequest() throws {
        let stack = try LocalStack("hup", settings: ["MEDIA_WORKERS": "2"])
        defer { stack.stop() }
        let load = try FaultLoad(stack)
        XCTAssertTrue(load.waitForUploads(4))
        let supervisor = try XCTUnwrap(stack.poolPID())
        for _ in 0..<3 {
            let workers = try stack.workerPIDs()
            kill(supervisor, SIGHUP)
            XCTAssertTrue(stack.waitUntil(seconds: 15) {
                let now = (try? stack.workerPIDs()) ?? []
                return now.count == 2 && Set(now).isDisjoint(with: workers)
            }, "the reload replaced every worker: \((try? stack.status()) ?? [:])")
        }
        XCTAssertTrue(load.waitForUploads(load.answered + 4))
        load.stop()
        XCTAssertEqual(load.failed.map(\.status), [], "no upload failed")
        XCTAssertEqual(load.failedReads, [], "no library read failed")
        try load.verify()
    }

    /// nginx reads the whole body before it passes the request on: a client that sends its
    /// headers, then a byte every 50 ms, does not occupy the single worker meanwhile.
    func testASlowClientDoesNotHoldAWorker() throws {
        let stack = try LocalStack("slow", settings: ["MEDIA_WORKERS": "1"])
        defer { stack.stop() }
        let user = "u-slow-\(UInt32.random(in: 0...UInt32.max))"
        var form = MultipartBody()
        form.file(filename: "slow.jpg", try Fixtures.bytes(Fixtures.jpeg(width: 64, height: 48)))
        let body = form.finished
        let head = "POST /api/media/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-User-Id: \(user)\r\n"
            + "Content-Type: \(form.contentType)\r\nContent-Length: \(body.count)\r\n\r\n"
        let fd = try stack.http.connect()
        defer { close(fd) }
        try writeAll(fd, Array(head.utf8) + body.prefix(100))

        // Four seconds of trickle; meanwhile the one worker answers others at once.
        let trickleEnds = Date().addingTimeInterval(4)
        var sent = 100
        while Date() < trickleEnds, sent < body.count - 1 {
            try writeAll(fd, [body[sent]])
            sent += 1
            usleep(50_000)
            if sent % 10 == 0 {
                let started = Date()
                let read = try stack.http.get("/api/media?limit=1", headers: ["X-User-Id": user])
                XCTAssertEqual(read.status, 200)
                XCTAssertLessThan(Date().timeIntervalSince(started), 1, "the worker was free")
            }
        }
        try writeAll(fd, Array(body[sent...]))
        let response = try stack.http.readResponse(fd, request: Array(head.utf8) + body)
        XCTAssertEqual(response.status, 201, "the upload completes once its body is in: \(response.text)")
    }

    /// A provider that accepts the request and never answers within the timeout: the job
    /// fails saying so, and the one runner slot is free for the next job at once.
    func testAHangingImageProviderFailsTheJobWithATimeoutAndFreesTheRunner() throws {
        let standIn = try OpenAIStandIn()
        defer { standIn.stop() }
        let stack = try LocalStack("hang", settings: standIn.providerSettings.merging([
            "MEDIA_OPENAI_TIMEOUT": "2s", "MEDIA_OPENAI_MAX_ATTEMPTS": "1", "MEDIA_GENERATION_CONCURRENCY": "1",
        ]) { $1 })
        defer { stack.stop() }
        let user = "u-hang-\(UInt32.random(in: 0...UInt32.max))"
        let tag = UInt32.random(in: 0...UInt32.max)
        let ids = try ["slow 600 \(tag)", "ok \(tag)"].map { prompt in
            let queued = try stack.http.send(
                method: "POST", path: "/api/media/generate", headers: ["X-User-Id": user, "Content-Type": "application/json"],
                body: Array(#"{"prompt":"\#(prompt)","type":"image","params":{"width":256,"height":256}}"#.utf8))
            XCTAssertEqual(queued.status, 202, queued.text)
            return try XCTUnwrap(queued.json()["id"] as? String)
        }
        let started = Date()
        var jobs: [[String: Any]] = []
        XCTAssertTrue(try stack.waitUntil(seconds: 30) {
            jobs = try ids.map { try stack.http.get("/api/media/jobs/\($0)", headers: ["X-User-Id": user]).json() }
            return jobs.allSatisfy { ["succeeded", "failed"].contains($0["status"] as? String ?? "") }
        }, "both jobs ended: \(jobs)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "the hang cost the timeout, not the provider's 600 s")
        XCTAssertEqual(jobs[0]["status"] as? String, "failed", "\(jobs[0])")
        XCTAssertTrue((jobs[0]["error"] as? String ?? "").lowercased().contains("timeout"), "\(jobs[0])")
        XCTAssertEqual(jobs[1]["status"] as? String, "succeeded", "the runner was free again: \(jobs[1])")
    }
}
