#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Hashing
import MariaDB
import S3
import TestSupport
import XCTest

/// The bucket origin (MEDIA_ORIGIN=r2) end to end against the run's S3 server: the key
/// layout, nothing under the storage root but staged files, delete, a wrong secret refused
/// at start, the server stopped mid-upload, and `storage copy` / `verify` between origins.
final class OriginStorageTests: XCTestCase {
    /// The public bucket's settings, in parts of 5 MiB so that a few MB go multipart.
    func bucketSettings(_ extra: [String: String] = [:]) throws -> [String: String] {
        let settings = TestOrigin.bucketOrigin(signed: false)
        guard settings["MEDIA_R2_ENDPOINT"] != nil else {
            throw TestFailure("no S3 server: MEDIA_TEST_S3_CREDENTIALS is unset (run ./scripts/test)")
        }
        return settings.merging(["MEDIA_R2_MULTIPART_THRESHOLD": "5m", "MEDIA_R2_PART_SIZE": "5m"]) { $1 }
            .merging(extra) { $1 }
    }

    /// Noise does not compress: about 18 MB of PNG, four parts.
    func largePNG() throws -> [UInt8] {
        try Fixtures.bytes(Fixtures.convert("noise-3000x2000.png", ["-size", "3000x2000", "xc:", "+noise", "Random"]))
    }

    func user(_ name: String) -> String { "u-\(name)-\(UInt32.random(in: 0...UInt32.max))" }

    /// The user's keys in the run's public bucket (where `storage copy` puts them).
    func bucketKeys(_ user: String) throws -> [String] {
        try TestOrigin.bucketClient(TestOrigin.bucketOrigin(signed: false)).listObjects(prefix: user + "/").map(\.key).sorted()
    }

    func rowCount(of user: String) throws -> Int {
        let database = Database(configuration: try ConnectionConfiguration(url: XCTUnwrap(TestEnvironment.databaseURL)))
        return try database.queryOne("SELECT COUNT(*) AS n FROM `MediaAsset` WHERE `userId` = ?", [user])!
            .get("n", as: Int.self)
    }

    func testObjectsLiveInTheBucketUnderTheKeyLayoutAndDeleteRemovesThem() throws {
        let stack = try LocalStack("r2", settings: try bucketSettings())
        defer { stack.stop() }
        let alice = user("r2")
        let small = try Fixtures.bytes(Fixtures.jpeg(width: 640, height: 480))
        let large = try largePNG()
        for (bytes, filename, ext) in [(small, "Harbour at night.jpg", "jpg"), (large, "noise.png", "png")] {
            let response = try stack.upload(bytes, filename: filename, as: alice)
            XCTAssertEqual(response.status, 201, response.text)
            let id = try XCTUnwrap(response.json()["id"] as? String)
            let stem = filename == "noise.png" ? "noise" : "harbour-at-night"
            XCTAssertEqual(try stack.storedObjects(under: "\(alice)/\(id)/"), [
                "\(alice)/\(id)/original/\(stem).\(ext)", "\(alice)/\(id)/preview/\(stem).webp",
                "\(alice)/\(id)/thumbnail/\(stem).webp",
            ])
            let database = Database(configuration: try ConnectionConfiguration(url: XCTUnwrap(TestEnvironment.databaseURL)))
            XCTAssertEqual(try database.queryOne("SELECT `storageProvider` FROM `MediaAsset` WHERE `id` = ?", [id])?
                .get("storageProvider", as: String.self), "r2")
            // Served from the bucket's own URL, byte for byte (the large one went up in parts).
            let original = try XCTUnwrap((response.json()["variants"] as? [[String: Any]])?.first?["url"] as? String)
            XCTAssertTrue(original.hasPrefix(try XCTUnwrap(stack.settings["MEDIA_BASE_URL"])), original)
            let served = try stack.fetch(original)
            XCTAssertEqual(served.status, 200)
            XCTAssertEqual(served.body, bytes)
            XCTAssertEqual(served.header("Content-Disposition"), "attachment", "originals are downloads")

            XCTAssertEqual(try stack.http.send(method: "DELETE", path: "/api/media/\(id)", headers: ["X-User-Id": alice],
                                               body: nil).status, 204)
            XCTAssertEqual(try stack.storedObjects(under: "\(alice)/\(id)/"), [], "delete removes the objects")
        }
        // Nothing is written under the storage root but staged files, and those are gone.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: stack.runDirectory + "/uploads"), [".tmp"])
        XCTAssertEqual(stack.temporaryFiles(), [])
        XCTAssertEqual(try TestOrigin.bucketClient(stack.settings).listMultipartUploads(prefix: alice + "/").count, 0)
    }

    func testAWrongSecretIsRefusedAtStartWithOneClearLine() throws {
        let directory = NSTemporaryDirectory() + "media-r2-secret-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MEDIA_") }
        environment.merge(try bucketSettings()) { $1 }
        environment["DATABASE_URL"] = TestEnvironment.databaseURL
        environment["MEDIA_STORAGE_ROOT"] = directory + "/uploads"
        environment["MEDIA_SOCKET"] = directory + "/media.sock"
        environment["MEDIA_OWNERS_FILE"] = TestEnvironment.repository.path + "/prisma-compat/owners.json"
        environment["MEDIA_AUTH"] = "dev"

        let good = try runProcess(TestEnvironment.binary, ["check-storage"], environment: environment)
        XCTAssertEqual(good.status, 0, good.text)
        XCTAssertTrue(good.text.contains("storage OK: bucket"), good.text)

        for (name, value) in [("MEDIA_R2_SECRET_ACCESS_KEY", "wrong-secret"), ("MEDIA_R2_ACCESS_KEY_ID", "AKIANOSUCHKEY0000000")] {
            var wrong = environment
            wrong[name] = value
            let checked = try runProcess(TestEnvironment.binary, ["check-storage"], environment: wrong)
            XCTAssertEqual(checked.status, 1, checked.text)
            let output = directory + "-serve.log"
            let serve = try ChildProcess(TestEnvironment.binary, ["serve"], environment: wrong, outputPath: output)
            let status = serve.wait(timeout: 20)
            if status == nil { serve.terminate(signal: SIGKILL); serve.wait() }
            XCTAssertEqual(status, 1, "serve refuses to start with \(name) wrong")
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: output)
            let lines = text.split(separator: "\n").filter { $0.hasPrefix("media-server:") }
            XCTAssertEqual(lines.count, 1, text)
            XCTAssertTrue(lines.first?.contains("MEDIA_ORIGIN=r2") == true && lines.first?.contains("not usable") == true, text)
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/media.sock"), "it never listened")
        }
    }

    func testTheS3ServerStoppedMidUploadGives503AndLeavesNothing() throws {
        let pidFile = try XCTUnwrap(ProcessInfo.processInfo.environment["MEDIA_TEST_S3_PID_FILE"], "run ./scripts/test")
        let serverPID = try XCTUnwrap(pid_t(String(contentsOfFile: pidFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        let stack = try LocalStack("r2-stop", settings: try bucketSettings([
            "MEDIA_R2_TIMEOUT": "1s", "MEDIA_R2_MAX_ATTEMPTS": "2", "MEDIA_R2_BACKOFF": "100ms",
        ]))
        defer { stack.stop() }
        let alice = user("r2-stop")
        let large = try largePNG()

        final class Outcome: @unchecked Sendable { var response: HTTPResponseMessage?; var error: Error? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do { outcome.response = try stack.upload(large, filename: "noise.png", as: alice) } catch { outcome.error = error }
            done.signal()
        }
        // Frozen once the first variant is in the bucket: the rest of the upload (the other
        // variant, the original's parts) meets a server that does not answer.
        let bucket = try TestOrigin.bucketClient(stack.settings)
        let started = stack.waitUntil(seconds: 30) { (try? bucket.listObjects(prefix: alice + "/").isEmpty) == false }
        XCTAssertTrue(started, "the upload reached the bucket")
        kill(serverPID, SIGSTOP)
        let answered = done.wait(timeout: .now() + 60)
        kill(serverPID, SIGCONT)
        XCTAssertEqual(answered, .success)
        XCTAssertNil(outcome.error)
        let response = try XCTUnwrap(outcome.response)
        XCTAssertEqual(response.status, 503, response.text)
        XCTAssertEqual(response.errorCode, "storage_unavailable", response.text)
        XCTAssertEqual(try rowCount(of: alice), 0, "no row")
        XCTAssertEqual(stack.temporaryFiles(), [], "no staged file")

        // What could not be removed while the server was frozen is gc's: afterwards nothing
        // is left, neither objects nor a multipart upload in progress.
        let collected = try runProcess(TestEnvironment.binary, ["gc", "--older-than", "0s"],
                                       environment: stack.serverEnvironment())
        XCTAssertEqual(collected.status, 0, collected.text)
        XCTAssertEqual(try stack.storedObjects(under: alice + "/"), [], collected.text)
        XCTAssertEqual(try bucket.listMultipartUploads(prefix: alice + "/").count, 0, collected.text)

        XCTAssertEqual(try stack.upload(try Fixtures.bytes(Fixtures.jpeg(width: 64, height: 48)), filename: "a.jpg",
                                        as: alice).status, 201, "uploads work again once the server is back")
    }

    func testCopyLocalToBucketResumesVerifiesAndThenServesFromTheBucket() throws {
        let scratch = try ScratchDatabase.migrated()
        addTeardownBlock(scratch.drop)
        let local = try LocalStack("copy", settings: ["DATABASE_URL": scratch.url, "MEDIA_ORIGIN": "local"])
        defer { local.stop() }
        let alice = user("copy")
        var checksums: [String: String] = [:]
        var files: [([UInt8], String)] = try (0..<6).map { index in
            (try Fixtures.bytes(Fixtures.jpeg(width: 200 + index * 40, height: 150)), "photo-\(index).jpg")
        }
        files.append((try largePNG(), "noise.png"))
        files.append((try VideoFixtures.bytes("landscape.mp4"), "clip.mp4"))
        for (bytes, filename) in files {
            let response = try local.upload(bytes, filename: filename, as: alice)
            XCTAssertEqual(response.status, 201, response.text)
            checksums[try XCTUnwrap(response.json()["id"] as? String)] = SHA256.hex(bytes)
        }
        let total = try local.storedObjects(under: alice + "/").count

        var environment = local.serverEnvironment()
        environment.merge(try bucketSettings()) { $1 }
        environment["MEDIA_ORIGIN"] = "local"
        let copy = [TestEnvironment.binary, "storage", "copy", "--from", "local", "--to", "r2"]

        // Interrupted once some objects are across, then run again: it resumes.
        let first = try ChildProcess(copy[0], Array(copy.dropFirst()), environment: environment)
        _ = local.waitUntil(seconds: 60) { (try? bucketKeys(alice).count) ?? 0 >= 2 }
        first.terminate(signal: SIGKILL)
        first.wait()
        let across = try bucketKeys(alice).count
        let second = try runProcess(copy[0], Array(copy.dropFirst()), environment: environment)
        XCTAssertEqual(second.status, 0, second.text)
        let counts = try XCTUnwrap(second.text.firstMatch(of: /(\d+) objects \((\d+) copied, (\d+) already there\)/), second.text)
        XCTAssertEqual(Int(counts.1), total, second.text)
        XCTAssertEqual(Int(counts.2)! + Int(counts.3)!, total, second.text)
        XCTAssertGreaterThanOrEqual(Int(counts.3)!, across, "what the first run copied is skipped")
        XCTAssertEqual(try bucketKeys(alice), try local.storedObjects(under: alice + "/"), "the same keys")

        var onBucket = environment
        onBucket["MEDIA_ORIGIN"] = "r2"
        let verified = try runProcess(TestEnvironment.binary, ["storage", "verify"], environment: onBucket)
        XCTAssertEqual(verified.status, 0, verified.text)

        // A lost object is found, and a copy puts it back.
        let lost = try XCTUnwrap(try bucketKeys(alice).first)
        try TestOrigin.bucketClient(environment).deleteObject(key: lost)
        let damaged = try runProcess(TestEnvironment.binary, ["storage", "verify", "--origin", "r2"], environment: environment)
        XCTAssertEqual(damaged.status, 1, damaged.text)
        XCTAssertTrue(damaged.text.contains("missing \(lost)"), damaged.text)
        let repaired = try runProcess(copy[0], Array(copy.dropFirst()), environment: environment)
        XCTAssertTrue(repaired.text.contains("(1 copied"), repaired.text)
        XCTAssertEqual(try runProcess(TestEnvironment.binary, ["storage", "verify"], environment: onBucket).status, 0)

        // Only the environment changes: a pool on the same database with MEDIA_ORIGIN=r2
        // serves every asset from the bucket.
        let bucketStack = try LocalStack("copied", settings: try bucketSettings(["DATABASE_URL": scratch.url]))
        defer { bucketStack.stop() }
        let page = try bucketStack.http.get("/api/media?limit=50", headers: ["X-User-Id": alice]).json()
        let items = try XCTUnwrap(page["items"] as? [[String: Any]])
        XCTAssertEqual(items.count, files.count)
        for item in items {
            let id = try XCTUnwrap(item["id"] as? String)
            for variant in item["variants"] as? [[String: Any]] ?? [] {
                let url = try XCTUnwrap(variant["url"] as? String)
                let served = try bucketStack.fetch(url)
                XCTAssertEqual(served.status, 200, url)
                XCTAssertEqual(served.body.count, variant["sizeBytes"] as? Int, url)
                if variant["kind"] as? String == "original" { XCTAssertEqual(SHA256.hex(served.body), checksums[id], url) }
            }
        }

        // And back, into an empty storage root: verified by checksum on the way down.
        var back = onBucket
        back["MEDIA_STORAGE_ROOT"] = local.runDirectory + "/restored"
        let restored = try runProcess(TestEnvironment.binary, ["storage", "copy", "--from", "r2", "--to", "local"],
                                      environment: back)
        XCTAssertEqual(restored.status, 0, restored.text)
        XCTAssertTrue(restored.text.contains("(\(total) copied, 0 already there)"), restored.text)
        XCTAssertEqual(try runProcess(TestEnvironment.binary, ["storage", "verify", "--origin", "local"],
                                      environment: back).status, 0)
        for (id, checksum) in checksums {
            let folder = local.runDirectory + "/restored/\(alice)/\(id)/original"
            let name = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: folder).first)
            XCTAssertEqual(SHA256.hex(try Fixtures.bytes(folder + "/" + name)), checksum)
        }
    }
}
