import Foundation
import Hashing
import MariaDB
import TestSupport
import XCTest

/// Owners and attachments through nginx, against the host fixture's owners (u-alice and
/// u-bob, seeded by scripts/stack db-up), on one pool in MEDIA_AUTH=dev.
final class AttachmentAPITests: XCTestCase {
    nonisolated(unsafe) static var sharedStack: LocalStack?
    var stack: LocalStack { Self.sharedStack! }
    var http: HTTPClient { stack.http }

    override class func setUp() {
        // The tests count the fixture owners' attachments: start them from none, so the
        // class can run again on the same database.
        let url = TestEnvironment.databaseURL ?? ""
        if let configuration = try? ConnectionConfiguration(url: url) {
            _ = try? Database(configuration: configuration).execute("""
                DELETE FROM `MediaAttachment` WHERE `userId` IN ('u-alice', 'u-bob')
                """)
        }
        sharedStack = try? LocalStack("attach")
    }
    override class func tearDown() {
        sharedStack?.stop()
        sharedStack = nil
    }
    override func setUpWithError() throws { _ = try XCTUnwrap(Self.sharedStack, "the stack did not start") }

    func database() throws -> Database {
        Database(configuration: try ConnectionConfiguration(url: XCTUnwrap(TestEnvironment.databaseURL)))
    }

    func send(_ method: String, _ path: String, as user: String?, json: String? = nil) throws -> HTTPResponseMessage {
        var headers: [String: String] = json == nil ? [:] : ["Content-Type": "application/json"]
        if let user { headers["X-User-Id"] = user }
        return try http.send(method: method, path: path, headers: headers, body: json.map { Array($0.utf8) })
    }

    /// A ready asset of `user`; its id.
    func uploadAsset(_ user: String, fields: [String: String] = [:]) throws -> String {
        var form = MultipartBody()
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) { form.field(name, value) }
        form.file(filename: "a.jpg", try Fixtures.bytes(Fixtures.jpeg(width: 64, height: 48)))
        let response = try http.send(method: "POST", path: "/api/media/upload",
                                     headers: ["X-User-Id": user, "Content-Type": form.contentType], body: form.finished)
        XCTAssertEqual(response.status, 201, response.text)
        return try XCTUnwrap(response.json()["id"] as? String)
    }

    func attach(_ assetId: String, as user: String, _ owner: (String, String), role: String,
                extra: String = "") throws -> HTTPResponseMessage {
        try send("POST", "/api/media/\(assetId)/attach", as: user,
                 json: #"{"ownerType":"\#(owner.0)","ownerId":"\#(owner.1)","role":"\#(role)"\#(extra)}"#)
    }

    func ownerItems(_ owner: (String, String), as user: String, role: String? = nil) throws -> [[String: Any]] {
        let response = try send("GET", "/api/owners/\(owner.0)/\(owner.1)/media" + (role.map { "?role=\($0)" } ?? ""), as: user)
        XCTAssertEqual(response.status, 200, response.text)
        return response.json()["items"] as? [[String: Any]] ?? []
    }

    func testAttachListReorderEditDetach() throws {
        let scene = ("scene", "scene-alice-1")
        let assets = try (0..<3).map { _ in try uploadAsset("u-alice") }
        var attachmentIds: [String] = []
        for asset in assets {
            let response = try attach(asset, as: "u-alice", scene, role: "gallery")
            XCTAssertEqual(response.status, 201, response.text)
            attachmentIds.append(try XCTUnwrap(response.json()["id"] as? String))
        }
        let again = try attach(assets[0], as: "u-alice", scene, role: "gallery")
        XCTAssertEqual(again.status, 200, "attaching twice answers the existing attachment")
        XCTAssertEqual(again.json()["id"] as? String, attachmentIds[0])

        var items = try ownerItems(scene, as: "u-alice")
        XCTAssertEqual(items.map { $0["id"] as? String }, attachmentIds, "without sortOrder, each goes last")
        XCTAssertEqual(items.map { $0["sortOrder"] as? Int }, [0, 1, 2])
        let firstAsset = try XCTUnwrap(items.first?["asset"] as? [String: Any])
        XCTAssertEqual(firstAsset["id"] as? String, assets[0])
        XCTAssertEqual((firstAsset["variants"] as? [Any])?.count, 3)

        let reordered = try send("PUT", "/api/owners/scene/scene-alice-1/media/order", as: "u-alice",
                                 json: #"{"attachmentIds":["\#(attachmentIds[2])","\#(attachmentIds[0])"]}"#)
        XCTAssertEqual(reordered.status, 200, reordered.text)
        items = try ownerItems(scene, as: "u-alice")
        XCTAssertEqual(items.map { $0["id"] as? String }, [attachmentIds[2], attachmentIds[0], attachmentIds[1]])

        let patched = try send("PATCH", "/api/media/attachments/\(attachmentIds[1])", as: "u-alice",
                               json: #"{"meta":{"caption":"Nuit — port"},"sortOrder":0}"#)
        XCTAssertEqual(patched.status, 200, patched.text)
        XCTAssertEqual((patched.json()["meta"] as? [String: Any])?["caption"] as? String, "Nuit — port")
        XCTAssertEqual(try send("PATCH", "/api/media/attachments/\(attachmentIds[1])", as: "u-alice",
                                json: #"{"sortOrder":true}"#).status, 400)

        XCTAssertEqual(try send("DELETE", "/api/media/attachments/\(attachmentIds[1])", as: "u-alice").status, 204)
        XCTAssertEqual(try send("DELETE", "/api/media/attachments/\(attachmentIds[1])", as: "u-alice").status, 404)
        XCTAssertEqual(try ownerItems(scene, as: "u-alice").count, 2)

        // Deleting an asset removes its attachments.
        XCTAssertEqual(try send("DELETE", "/api/media/\(assets[2])", as: "u-alice").status, 204)
        XCTAssertEqual(try ownerItems(scene, as: "u-alice").map { $0["id"] as? String }, [attachmentIds[0]])
        XCTAssertNil(try database().queryOne("SELECT `id` FROM `MediaAttachment` WHERE `id` = ?", [attachmentIds[2]]))
    }

    func testFiftyConcurrentCoverAttachesLeaveExactlyOneCover() throws {
        let owner = ("character", "character-alice-1")
        let assets = try (0..<50).map { _ in try uploadAsset("u-alice") }
        let http = self.http
        let statuses = concurrently(50) { index in
            let body = #"{"ownerType":"character","ownerId":"character-alice-1","role":"cover"}"#
            return (try? http.send(method: "POST", path: "/api/media/\(assets[index])/attach",
                                   headers: ["X-User-Id": "u-alice"], body: Array(body.utf8)).status) ?? -1
        }
        XCTAssertTrue(statuses.allSatisfy { $0 == 201 }, "\(statuses)")
        let covers = try ownerItems(owner, as: "u-alice", role: "cover")
        XCTAssertEqual(covers.count, 1)
        let rows = try database().queryOne("""
            SELECT COUNT(*) AS n FROM `MediaAttachment` WHERE `ownerType` = 'character' AND `ownerId` = ? AND `role` = 'cover'
            """, [owner.1])!.get("n", as: Int.self)
        XCTAssertEqual(rows, 1)
    }

    func testAnotherUsersDataIs404AndNothingChanges() throws {
        let asset = try uploadAsset("u-alice")
        let attachment = try attach(asset, as: "u-alice", ("location", "location-alice-1"), role: "reference")
        let attachmentId = try XCTUnwrap(attachment.json()["id"] as? String)
        let bobAsset = try uploadAsset("u-bob")
        let before = try ownerItems(("location", "location-alice-1"), as: "u-alice")

        let probes: [(String, String, String?)] = [
            ("GET", "/api/media/\(asset)", nil),
            ("PATCH", "/api/media/\(asset)", #"{"title":"mine"}"#),
            ("DELETE", "/api/media/\(asset)", nil),
            ("POST", "/api/media/\(asset)/attach", #"{"ownerType":"scene","ownerId":"scene-bob-1","role":"inline"}"#),
            ("POST", "/api/media/\(bobAsset)/attach", #"{"ownerType":"location","ownerId":"location-alice-1","role":"inline"}"#),
            ("PATCH", "/api/media/attachments/\(attachmentId)", #"{"sortOrder":5}"#),
            ("DELETE", "/api/media/attachments/\(attachmentId)", nil),
            ("GET", "/api/owners/location/location-alice-1/media", nil),
            ("PUT", "/api/owners/location/location-alice-1/media/order", #"{"attachmentIds":["\#(attachmentId)"]}"#),
        ]
        for (method, path, body) in probes {
            XCTAssertEqual(try send(method, path, as: "u-bob", json: body).status, 404, "\(method) \(path) as another user")
            XCTAssertEqual(try send(method, path, as: nil, json: body).status, 401, "\(method) \(path) without identity")
        }
        let batch = try send("GET", "/api/owners/location/media?ids=location-alice-1,location-bob-1", as: "u-bob")
        XCTAssertEqual(batch.status, 200)
        XCTAssertEqual((batch.json()["owners"] as? [String: Any])?.keys.sorted(), ["location-bob-1"])
        XCTAssertEqual(try send("GET", "/api/owners/location/media?ids=x", as: nil).status, 401)

        let after = try ownerItems(("location", "location-alice-1"), as: "u-alice")
        XCTAssertEqual(after.map { $0["id"] as? String }, before.map { $0["id"] as? String })
        XCTAssertEqual(after.map { $0["sortOrder"] as? Int }, before.map { $0["sortOrder"] as? Int })
        XCTAssertEqual(try send("GET", "/api/media/\(asset)", as: "u-alice").status, 200, "nothing changed")
    }

    func testInvalidAttachesAreRefused() throws {
        let asset = try uploadAsset("u-alice")
        let scene = ("scene", "scene-alice-2")
        XCTAssertEqual(try attach(asset, as: "u-alice", ("planet", "p-1"), role: "cover").errorCode, "invalid_owner_type")
        XCTAssertEqual(try attach(asset, as: "u-alice", ("planet", "p-1"), role: "cover").status, 400)
        XCTAssertEqual(try send("GET", "/api/owners/planet/p-1/media", as: "u-alice").status, 400)
        XCTAssertEqual(try attach(asset, as: "u-alice", scene, role: "hero").status, 400)
        XCTAssertEqual(try attach(asset, as: "u-alice", ("scene", "scene-bob-1"), role: "cover").status, 404,
                       "another user's owner is the same as a missing one")
        XCTAssertEqual(try attach(asset, as: "u-alice", ("scene", "scene-nobody"), role: "cover").status, 404)
        XCTAssertEqual(try send("POST", "/api/media/\(asset)/attach", as: "u-alice", json: #"{"ownerType":"scene"}"#).status, 400)
        XCTAssertEqual(try attach(asset, as: "u-alice", scene, role: "inline", extra: #","extra":1"#).errorCode, "unknown_field")
        XCTAssertEqual(try attach(asset, as: "u-alice", scene, role: "inline", extra: #","meta":[1]"#).errorCode, "invalid_meta")

        // A failed asset and a deleted one cannot be attached: 404, as they are not in the library.
        let failed = "cfailed\(UInt64.random(in: 1_000_000_000_000_000...9_999_999_999_999_999))"
        try database().execute("""
            INSERT INTO `MediaAsset` (`id`, `userId`, `type`, `mimeType`, `sizeBytes`, `storageKey`, `status`, `updatedAt`)
            VALUES (?, 'u-alice', 'image', 'image/png', 1, 'k', 'failed', NOW(3))
            """, [failed])
        XCTAssertEqual(try attach(failed, as: "u-alice", scene, role: "inline").status, 404)
        XCTAssertEqual(try send("DELETE", "/api/media/\(asset)", as: "u-alice").status, 204)
        XCTAssertEqual(try attach(asset, as: "u-alice", scene, role: "inline").status, 404)
        XCTAssertEqual(try ownerItems(scene, as: "u-alice").count, 0)
    }

    func testUploadAndAttachInOneRequestChecksTheOwnerFirst() throws {
        let owner = ["ownerType": "theme", "ownerId": "theme-alice-1", "role": "gallery"]
        var form = MultipartBody()
        for (name, value) in owner.sorted(by: { $0.key < $1.key }) { form.field(name, value) }
        form.file(filename: "a.jpg", try Fixtures.bytes(Fixtures.jpeg(width: 64, height: 48)))
        let created = try http.send(method: "POST", path: "/api/media/upload",
                                    headers: ["X-User-Id": "u-alice", "Content-Type": form.contentType], body: form.finished)
        XCTAssertEqual(created.status, 201, created.text)
        let attachment = try XCTUnwrap(created.json()["attachment"] as? [String: Any])
        XCTAssertEqual(attachment["ownerId"] as? String, "theme-alice-1")
        XCTAssertEqual(try ownerItems(("theme", "theme-alice-1"), as: "u-alice").first?["assetId"] as? String,
                       created.json()["id"] as? String)

        // Someone else's owner: refused before anything is stored.
        let user = "u-upload-\(UInt32.random(in: 0...UInt32.max))"
        let refused = try http.send(method: "POST", path: "/api/media/upload",
                                    headers: ["X-User-Id": user, "Content-Type": form.contentType], body: form.finished)
        XCTAssertEqual(refused.status, 404, refused.text)
        XCTAssertEqual(try database().queryOne("SELECT COUNT(*) AS n FROM `MediaAsset` WHERE `userId` = ?", [user])!
            .get("n", as: Int.self), 0)
        XCTAssertEqual(try stack.storedObjects(under: user + "/"), [])
        XCTAssertEqual(stack.temporaryFiles(), [])
    }

    func testBatchHydrationAndConstantStatementCounts() throws {
        let one = ("location", "location-alice-2"), many = ("character", "character-alice-2")
        _ = try attach(try uploadAsset("u-alice"), as: "u-alice", one, role: "gallery")
        for _ in 0..<6 { _ = try attach(try uploadAsset("u-alice"), as: "u-alice", many, role: "gallery") }

        let batch = try send("GET", "/api/owners/character/media?ids=character-alice-1,character-alice-2,character-bob-1,nope",
                             as: "u-alice")
        XCTAssertEqual(batch.status, 200, batch.text)
        let owners = try XCTUnwrap(batch.json()["owners"] as? [String: [[String: Any]]])
        XCTAssertEqual(owners.keys.sorted(), ["character-alice-1", "character-alice-2"])
        XCTAssertEqual(owners["character-alice-2"]?.count, 6)
        XCTAssertEqual(try send("GET", "/api/owners/character/media?ids=" + (0...100).map { "c\($0)" }.joined(separator: ","),
                                as: "u-alice").errorCode, "invalid_ids")

        // The request log counts each request's SQL statements: the same for 1 and 6 attachments.
        let oneId = "one-\(UInt32.random(in: 0...UInt32.max))", manyId = "many-\(UInt32.random(in: 0...UInt32.max))"
        _ = try http.get("/api/owners/location/location-alice-2/media", headers: ["X-User-Id": "u-alice", "X-Request-Id": oneId])
        _ = try http.get("/api/owners/character/character-alice-2/media", headers: ["X-User-Id": "u-alice", "X-Request-Id": manyId])
        func statements(_ requestId: String) -> Int? {
            stack.log().split(separator: "\n").first { $0.contains("\"requestId\":\"\(requestId)\"") && $0.contains("\"event\":\"request\"") }
                .flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }?["sql"] as? Int
        }
        XCTAssertTrue(stack.waitUntil(seconds: 2) { statements(manyId) != nil })
        XCTAssertNotNil(statements(oneId))
        XCTAssertEqual(statements(oneId), statements(manyId))
        XCTAssertLessThanOrEqual(statements(manyId) ?? 99, 4)
        // And the part of its time they waited on the database: never more than the whole.
        let line = stack.log().split(separator: "\n").first { $0.contains("\"requestId\":\"\(manyId)\"") && $0.contains("\"event\":\"request\"") }
        let fields = try XCTUnwrap(line.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        let waited = try XCTUnwrap(fields["sqlMs"] as? Double), total = try XCTUnwrap(fields["durationMs"] as? Double)
        XCTAssertGreaterThan(waited, 0)
        XCTAssertLessThanOrEqual(waited, total)
    }

    /// Workers keep what they rendered (MEDIA_RENDERED_RESPONSES), yet after any row a
    /// response is made from changes, every answer shows the change: a variant's row alone,
    /// an attachment's row alone, through the library page, one owner and the batch.
    func testKeptRenderingsFollowEveryRowThroughNginx() throws {
        let owner = ("script", "script-alice-1")
        let asset = try uploadAsset("u-alice")
        let attached = try attach(asset, as: "u-alice", owner, role: "reference")
        XCTAssertEqual(attached.status, 201, attached.text)
        let attachmentId = try XCTUnwrap(attached.json()["id"] as? String)
        let paths = ["/api/media?limit=3", "/api/owners/script/script-alice-1/media?role=reference",
                     "/api/owners/script/media?ids=script-alice-1,nope&role=reference"]
        /// Each path asked often enough that every worker answers it more than once (the
        /// later times from what it kept): one body per path.
        func answers() throws -> [String] {
            var bodies = paths.map { _ in Set<String>() }
            for _ in 0..<16 {
                for (index, path) in paths.enumerated() {
                    let response = try send("GET", path, as: "u-alice")
                    XCTAssertEqual(response.status, 200, response.text)
                    bodies[index].insert(response.text)
                }
            }
            XCTAssertEqual(bodies.map(\.count), [1, 1, 1], "every worker answers the same")
            return bodies.map { $0.first ?? "" }
        }
        /// How many answers to each path so far came from what a worker kept.
        func keptAnswers() -> [Int] {
            let lines = stack.log().split(separator: "\n").filter { $0.contains("\"event\":\"request\"") && $0.contains(#""rendered":"kept""#) }
            return ["\"path\":\"/api/media\"", "\"path\":\"/api/owners/script/script-alice-1/media\"",
                    "\"path\":\"/api/owners/script/media\""].map { path in lines.filter { $0.contains(path) }.count }
        }
        let keptBefore = keptAnswers()
        let before = try answers()
        XCTAssertTrue(before.allSatisfy { $0.contains(asset) }, "\(before)")
        XCTAssertTrue(stack.waitUntil(seconds: 2) { zip(keptAnswers(), keptBefore).allSatisfy { $0 - $1 >= 8 } },
                      "most answers came from what the workers kept: \(keptAnswers()) after \(keptBefore)")

        let database = try database()
        XCTAssertEqual(try database.execute(
            "UPDATE `MediaVariant` SET `width` = 4321 WHERE `assetId` = ? AND `kind` = 'thumbnail'", [asset]), 1)
        let resized = try answers()
        for (old, new) in zip(before, resized) {
            XCTAssertNotEqual(old, new)
            XCTAssertTrue(new.contains(#""width":4321"#), new)
        }

        XCTAssertEqual(try send("PATCH", "/api/media/attachments/\(attachmentId)", as: "u-alice",
                                json: #"{"sortOrder":77}"#).status, 200)
        let moved = try answers()
        XCTAssertEqual(moved[0], resized[0], "the library page holds no attachment")
        for new in moved.dropFirst() { XCTAssertTrue(new.contains(#""sortOrder":77"#), new) }

        // Another user asking for the same owners reads none of it.
        let stranger = try send("GET", paths[2], as: "u-bob")
        XCTAssertEqual(stranger.status, 200)
        XCTAssertFalse(stranger.text.contains(asset))
    }

    func testGarbageCollectionRemovesAttachmentsOfDeletedOwners() throws {
        let asset = try uploadAsset("u-bob")
        XCTAssertEqual(try attach(asset, as: "u-bob", ("theme", "theme-bob-2"), role: "reference").status, 201)
        try database().execute("DELETE FROM `Theme` WHERE `id` = 'theme-bob-2'")
        let environment = stack.serverEnvironment()
        let dryRun = try runProcess(TestEnvironment.binary, ["gc", "--dry-run"], environment: environment)
        XCTAssertTrue(dryRun.text.contains("would remove orphan-attachments: theme/theme-bob-2 (user u-bob)"), dryRun.text)
        XCTAssertFalse(dryRun.text.contains("theme-alice"), dryRun.text)
        XCTAssertEqual(try runProcess(TestEnvironment.binary, ["gc"], environment: environment).status, 0)
        XCTAssertEqual(try database().queryOne("""
            SELECT COUNT(*) AS n FROM `MediaAttachment` WHERE `ownerId` = 'theme-bob-2'
            """)!.get("n", as: Int.self), 0)
        XCTAssertEqual(try send("GET", "/api/media/\(asset)", as: "u-bob").status, 200, "the asset stays")
    }
}
