import Foundation
import MariaDB
import TestSupport
import XCTest

/// Two hosts, each a pool with its own nginx and run directory, sharing one MariaDB and one
/// bucket (the run's S3 server): what DESIGN §7 says must hold across hosts, since every
/// decision that spans requests is taken in the database.
final class MultiHostTests: XCTestCase {
    func user(_ role: String) -> String { "u-\(role)-\(UInt32.random(in: 0...UInt32.max))" }

    /// Hosts A and B on the shared bucket, with `settings` on both (and `onB` on B).
    func hosts(_ name: String, settings: [String: String] = [:],
               onB: [String: String] = [:]) throws -> (LocalStack, LocalStack) {
        let shared = TestOrigin.bucketOrigin(signed: false).merging(settings) { $1 }
        let a = try LocalStack("\(name)-a", settings: shared)
        addTeardownBlock { a.stop() }
        let b = try LocalStack("\(name)-b", settings: shared.merging(onB) { $1 })
        addTeardownBlock { b.stop() }
        return (a, b)
    }

    func database() throws -> Database {
        Database(configuration: try ConnectionConfiguration(url: XCTUnwrap(TestEnvironment.databaseURL)))
    }

    /// The user's jobs that have not finished yet.
    func unfinishedJobs(of user: String, in database: Database) throws -> Int {
        try database.queryOne("""
            SELECT COUNT(*) AS n FROM `MediaGenerationJob` WHERE `userId` = ? AND `status` IN ('queued', 'running')
            """, [user])?.get("n", as: Int.self) ?? -1
    }

    func testAnUploadOnOneHostIsListedServedAndDeletedOnTheOther() throws {
        let (a, b) = try hosts("files")
        let alice = user("hosts")
        let photo = try Fixtures.bytes(Fixtures.jpeg(width: 120, height: 80))
        let uploaded = try a.upload(photo, filename: "harbour.jpg", as: alice)
        XCTAssertEqual(uploaded.status, 201, uploaded.text)
        let id = try XCTUnwrap(uploaded.json()["id"] as? String)

        let page = try b.http.get("/api/media?limit=10", headers: ["X-User-Id": alice])
        XCTAssertEqual(page.status, 200, page.text)
        let items = page.json()["items"] as? [[String: Any]] ?? []
        XCTAssertEqual(items.map { $0["id"] as? String }, [id])
        let variants = try XCTUnwrap(items.first?["variants"] as? [[String: Any]])
        XCTAssertEqual(variants.map { $0["kind"] as? String }, ["original", "thumbnail", "preview"])
        for variant in variants {
            let served = try b.fetch(try XCTUnwrap(variant["url"] as? String))
            XCTAssertEqual(served.status, 200, "\(variant)")
            if variant["kind"] as? String == "original" { XCTAssertEqual(served.body, photo) }
        }
        XCTAssertEqual(try b.storedObjects(under: "\(alice)/\(id)/").count, 3)

        XCTAssertEqual(try b.http.send(method: "DELETE", path: "/api/media/\(id)", headers: ["X-User-Id": alice],
                                       body: nil).status, 204)
        XCTAssertEqual(try a.http.get("/api/media/\(id)", headers: ["X-User-Id": alice]).status, 404)
        XCTAssertEqual(try a.storedObjects(under: "\(alice)/\(id)/"), [])
    }

    func testTwoHundredJobsQueuedOnBothHostsEachRunExactlyOnce() throws {
        let (a, b) = try hosts("jobs", settings: ["MEDIA_GENERATION_CONCURRENCY": "4"])
        let writer = user("jobs")
        let ids = try (0..<200).map { index in
            try (index % 2 == 0 ? a : b).queueImageJob(prompt: "a harbour at dawn, take \(index)", as: writer)
        }
        let database = try database()
        let finished = try a.waitUntil(seconds: 120) { try unfinishedJobs(of: writer, in: database) == 0 }
        let left = try unfinishedJobs(of: writer, in: database)
        XCTAssertTrue(finished, "jobs left: \(left)")

        let rows = try database.query("""
            SELECT `id`, `status`, `attempts`, `resultAssetId` FROM `MediaGenerationJob` WHERE `userId` = ?
            """, [writer])
        XCTAssertEqual(Set(try rows.map { try $0.get("id", as: String.self) }), Set(ids))
        for row in rows {
            XCTAssertEqual(try row.get("status", as: String.self), "succeeded", "\(row)")
            XCTAssertEqual(try row.get("attempts", as: Int.self), 1, "\(row)")
        }
        XCTAssertEqual(Set(try rows.compactMap { try $0.get("resultAssetId", as: String?.self) }).count, 200)
        // Each job claimed once, by one host or the other, and both hosts took part.
        let onA = a.claimedJobs.filter(Set(ids).contains), onB = b.claimedJobs.filter(Set(ids).contains)
        XCTAssertEqual((onA + onB).sorted(), ids.sorted())
        XCTAssertFalse(onA.isEmpty)
        XCTAssertFalse(onB.isEmpty)
        let library = try database.queryOne("SELECT COUNT(*) AS n FROM `MediaAsset` WHERE `userId` = ?", [writer])
        XCTAssertEqual(try library?.get("n", as: Int.self), 200)
    }

    func testAJobRunsOnlyOnAHostWithTheProviderItWasQueuedFor() throws {
        // A mid-change of MEDIA_GENERATION_PROVIDER: A still procedural, B on the OpenAI stand-in.
        // (A browser test's job once ran on another stack's procedural runner, its row saying openai.)
        let standIn = try OpenAIStandIn()
        addTeardownBlock { standIn.stop() }
        let (a, b) = try hosts("provider", onB: standIn.providerSettings)
        let writer = user("provider")
        let prompts = (0..<8).map { "instant a quay at night, take \($0)" }
        let onB = try prompts.map { try b.queueImageJob(prompt: $0, as: writer) }
        let onA = try (0..<8).map { try a.queueImageJob(prompt: "a quay at dawn, take \($0)", as: writer) }
        let database = try database()
        let finished = try a.waitUntil(seconds: 60) { try unfinishedJobs(of: writer, in: database) == 0 }
        let left = try unfinishedJobs(of: writer, in: database)
        XCTAssertTrue(finished, "jobs left: \(left)")
        for (ids, provider, host) in [(onB, "openai", b), (onA, "procedural", a)] {
            XCTAssertEqual(Set(host.claimedJobs.filter(Set(ids).contains)), Set(ids), "\(provider) jobs claimed on their host")
            for id in ids {
                let job = try b.http.get("/api/media/jobs/\(id)", headers: ["X-User-Id": writer]).json()
                XCTAssertEqual(job["status"] as? String, "succeeded", "\(job)")
                XCTAssertEqual(job["provider"] as? String, provider, "\(job)")
                let requestId = ((job["result"] as? [String: Any])?["facts"] as? [String: Any])?["requestId"] as? String ?? ""
                XCTAssertEqual(requestId.hasPrefix("procedural-"), provider == "procedural", "\(job)")
            }
        }
        for prompt in prompts { XCTAssertEqual(try OpenAIStandIn.calls(port: standIn.port, prompt: prompt), 1, prompt) }
    }

    func testFiftyConcurrentCoverAttachesSplitAcrossHostsLeaveExactlyOneCover() throws {
        let (a, b) = try hosts("cover")
        let writer = user("cover")
        // An owner of this user's own in the host app's tables, so that no other test counts it.
        let database = try database()
        let script = "script-\(writer)", character = "character-\(writer)"
        _ = try database.execute("""
            INSERT INTO `Script` (`id`, `userId`, `title`, `createdAt`, `updatedAt`) VALUES (?, ?, 'Hosts', NOW(3), NOW(3))
            """, [script, writer])
        _ = try database.execute("""
            INSERT INTO `Character` (`id`, `scriptId`, `name`, `createdAt`, `updatedAt`) VALUES (?, ?, 'Mara', NOW(3), NOW(3))
            """, [character, script])
        addTeardownBlock {
            _ = try? database.execute("DELETE FROM `Character` WHERE `id` = ?", [character])
            _ = try? database.execute("DELETE FROM `Script` WHERE `id` = ?", [script])
        }
        let photo = try Fixtures.bytes(Fixtures.jpeg(width: 64, height: 48))
        let assets = try (0..<50).map { index in
            try XCTUnwrap((index % 2 == 0 ? a : b).upload(photo, filename: "c\(index).jpg", as: writer).json()["id"] as? String)
        }
        let statuses = concurrently(50) { index in
            let body = #"{"ownerType":"character","ownerId":"\#(character)","role":"cover"}"#
            return (try? (index % 2 == 0 ? a : b).http.send(
                method: "POST", path: "/api/media/\(assets[index])/attach",
                headers: ["X-User-Id": writer, "Content-Type": "application/json"], body: Array(body.utf8)).status) ?? -1
        }
        XCTAssertTrue(statuses.allSatisfy { $0 == 201 }, "\(statuses)")
        for host in [a, b] {
            let covers = try host.http.get("/api/owners/character/\(character)/media?role=cover", headers: ["X-User-Id": writer])
            XCTAssertEqual((covers.json()["items"] as? [[String: Any]])?.count, 1, covers.text)
        }
        let rows = try database.queryOne("""
            SELECT COUNT(*) AS n FROM `MediaAttachment` WHERE `ownerType` = 'character' AND `ownerId` = ? AND `role` = 'cover'
            """, [character])
        XCTAssertEqual(try rows?.get("n", as: Int.self), 1)
    }

    func testTheGenerationConcurrencyHoldsAcrossHosts() throws {
        // Each job pauses a second once its image is saved, so jobs overlap; four runners per
        // host could run eight at once if each host counted only its own.
        let (a, b) = try hosts("concur", settings: [
            "MEDIA_GENERATION_CONCURRENCY": "2", "MEDIA_DEBUG_GENERATION_PAUSE": "1s", "MEDIA_WORKERS": "4",
        ])
        let writer = user("concur")
        let ids = try (0..<12).map { index in
            try (index % 2 == 0 ? a : b).queueImageJob(prompt: "a lighthouse, take \(index)", as: writer)
        }
        let database = try database()
        var mostAtOnce = 0
        XCTAssertTrue(try a.waitUntil(seconds: 90) {
            let running = try database.queryOne("""
                SELECT COUNT(*) AS n FROM `MediaGenerationJob` WHERE `userId` = ? AND `status` = 'running'
                """, [writer])?.get("n", as: Int.self) ?? 0
            mostAtOnce = max(mostAtOnce, running)
            return try unfinishedJobs(of: writer, in: database) == 0
        })
        XCTAssertEqual(mostAtOnce, 2, "at most two at once, and the cap was reached")
        let onA = a.claimedJobs.filter(Set(ids).contains), onB = b.claimedJobs.filter(Set(ids).contains)
        XCTAssertEqual((onA + onB).sorted(), ids.sorted())
        XCTAssertFalse(onA.isEmpty, "host A ran none")
        XCTAssertFalse(onB.isEmpty, "host B ran none")
    }

    func testTheStorageQuotaHoldsAcrossHosts() throws {
        let photo = try Fixtures.bytes(Fixtures.jpeg(width: 96, height: 64))
        let size = Int64(photo.count)
        let quota = size * 5 + size / 2
        let (a, b) = try hosts("quota", settings: ["MEDIA_USER_QUOTA_BYTES": String(quota), "MEDIA_WORKERS": "4"])
        let writer = user("quota")
        let answers = concurrently(16) { index in try? (index % 2 == 0 ? a : b).upload(photo, filename: "q\(index).jpg", as: writer) }
        let statuses = answers.map { $0?.status ?? 0 }
        XCTAssertEqual(statuses.filter { $0 == 201 }.count, 5, "\(statuses)")
        XCTAssertEqual(statuses.filter { $0 == 413 }.count, 11, "\(statuses)")
        XCTAssertTrue(answers.allSatisfy { $0?.status == 201 || $0?.errorCode == "quota_exceeded" })
        for host in [a, b] {
            let usage = try host.http.get("/api/media/usage", headers: ["X-User-Id": writer]).json()
            XCTAssertEqual(usage["bytes"] as? Int64, size * 5)
            XCTAssertEqual(usage["count"] as? Int, 5)
        }
        XCTAssertEqual(try a.storedObjects(under: writer + "/").filter { $0.contains("/original/") }.count, 5)
        XCTAssertEqual(a.temporaryFiles() + b.temporaryFiles(), [])
    }
}
