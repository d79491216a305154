import Foundation
import Hashing
import MariaDB
import TestSupport
import XCTest

/// Upload → library → edit → delete, through nginx, against one pool (MEDIA_AUTH=dev).
final class LibraryAPITests: XCTestCase {
    nonisolated(unsafe) static var sharedStack: LocalStack?

    var stack: LocalStack { Self.sharedStack! }
    var http: HTTPClient { stack.http }
    let alice = "u-api-alice-\(UInt32.random(in: 0...UInt32.max))"
    let bob = "u-api-bob-\(UInt32.random(in: 0...UInt32.max))"

    override class func setUp() {
        sharedStack = try? LocalStack("library")
    }

    override class func tearDown() {
        sharedStack?.stop()
        sharedStack = nil
    }

    override func setUpWithError() throws {
        _ = try XCTUnwrap(Self.sharedStack, "the stack did not start")
    }

    func upload(_ user: String?, file content: [UInt8]?, filename: String = "photo.jpg",
                fields: [String: String] = [:]) throws -> HTTPResponseMessage {
        var form = MultipartBody()
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) { form.field(name, value) }
        if let content { form.file(filename: filename, contentType: "image/jpeg", content) }
        var headers = ["Content-Type": form.contentType]
        if let user { headers["X-User-Id"] = user }
        return try http.send(method: "POST", path: "/api/media/upload", headers: headers, body: form.finished)
    }

    func get(_ path: String, as user: String?) throws -> HTTPResponseMessage {
        try http.get(path, headers: user.map { ["X-User-Id": $0] } ?? [:])
    }

    func leftovers(of user: String) throws -> (rows: Int, files: [String], temporary: [String]) {
        try MediaAPITests.leftovers(of: user, in: stack)
    }

    func testUploadListShowEditDeleteThroughNginx() throws {
        let photo = try Fixtures.bytes(Fixtures.jpeg(width: 2400, height: 1600))
        let created = try upload(alice, file: photo, filename: "Night Exterior – Harbour.JPG",
                                 fields: ["title": "Harbour at night", "tags": "[\"night\",\"exterior\"]"])
        XCTAssertEqual(created.status, 201, created.text)
        let asset = created.json()
        let id = try XCTUnwrap(asset["id"] as? String)
        XCTAssertEqual(asset["status"] as? String, "ready")
        XCTAssertEqual(asset["type"] as? String, "image")
        XCTAssertEqual(asset["mimeType"] as? String, "image/jpeg")
        XCTAssertEqual(asset["width"] as? Int, 2400)
        XCTAssertEqual(asset["height"] as? Int, 1600)
        XCTAssertEqual(asset["sizeBytes"] as? Int, photo.count)
        XCTAssertEqual(asset["checksum"] as? String, SHA256.hex(photo))
        XCTAssertEqual(asset["tags"] as? [String], ["night", "exterior"])
        XCTAssertNil(asset["storageKey"], "storage keys stay internal")
        XCTAssertTrue((asset["createdAt"] as? String ?? "").hasSuffix("Z"))
        XCTAssertEqual((asset["createdAt"] as? String)?.count, 24, "ISO-8601 with milliseconds")

        let variants = try XCTUnwrap(asset["variants"] as? [[String: Any]])
        XCTAssertEqual(variants.map { $0["kind"] as? String }, ["original", "thumbnail", "preview"])
        let byKind = Dictionary(uniqueKeysWithValues: variants.map { ($0["kind"] as! String, $0) })
        XCTAssertEqual(byKind["thumbnail"]?["width"] as? Int, 320)
        XCTAssertEqual(byKind["thumbnail"]?["height"] as? Int, 213)
        XCTAssertEqual(byKind["preview"]?["width"] as? Int, 1600)
        XCTAssertEqual(byKind["preview"]?["format"] as? String, "webp")

        // The URLs work (through nginx, or from the bucket), with the DESIGN §5 headers.
        for (kind, variant) in byKind {
            let url = try XCTUnwrap(variant["url"] as? String)
            XCTAssertTrue(url.contains("/\(alice)/\(id)/\(kind)/"), url)
            XCTAssertEqual(url.contains("expires=") || url.contains("X-Amz-Signature="), TestOrigin.isSigned, url)
            let file = try stack.fetch(url)
            XCTAssertEqual(file.status, 200, url)
            if !stack.storesInBucket { XCTAssertEqual(file.header("X-Content-Type-Options"), "nosniff") }
            XCTAssertEqual(file.body.count, variant["sizeBytes"] as? Int)
            if kind == "original" {
                XCTAssertEqual(file.body, photo, "the original is kept byte for byte")
                XCTAssertEqual(file.header("Content-Disposition"), "attachment")
                XCTAssertTrue(url.components(separatedBy: "?")[0].hasSuffix("/night-exterior-harbour.jpg"), url)
            } else {
                XCTAssertEqual(file.header("Content-Type"), "image/webp")
                XCTAssertNil(file.header("Content-Disposition"))
                XCTAssertEqual(Array(file.body[8..<12]), Array("WEBP".utf8))
            }
        }
        XCTAssertEqual(try stack.storedObjects(under: "\(alice)/\(id)/").count, 3, "original, thumbnail, preview")

        let shown = try get("/api/media/\(id)", as: alice)
        XCTAssertEqual(shown.status, 200)
        XCTAssertEqual(shown.json()["title"] as? String, "Harbour at night")

        let listed = try get("/api/media?limit=10&tag=night", as: alice).json()
        XCTAssertEqual((listed["items"] as? [[String: Any]])?.map { $0["id"] as? String }, [id])
        XCTAssertTrue(listed["nextCursor"] is NSNull)
        XCTAssertEqual((try get("/api/media?q=harbour", as: alice).json()["items"] as? [Any])?.count, 1)
        XCTAssertEqual((try get("/api/media?type=video", as: alice).json()["items"] as? [Any])?.count, 0)

        let patched = try http.send(method: "PATCH", path: "/api/media/\(id)",
                                    headers: ["X-User-Id": alice, "Content-Type": "application/json"],
                                    body: Array(#"{"title":"Harbour, dawn","tags":["dawn"],"description":null}"#.utf8))
        XCTAssertEqual(patched.status, 200, patched.text)
        XCTAssertEqual(patched.json()["title"] as? String, "Harbour, dawn")
        XCTAssertEqual(patched.json()["tags"] as? [String], ["dawn"])

        // Another user sees nothing, on every route.
        XCTAssertEqual(try get("/api/media/\(id)", as: bob).status, 404)
        XCTAssertEqual((try get("/api/media", as: bob).json()["items"] as? [Any])?.count, 0)
        XCTAssertEqual(try http.send(method: "PATCH", path: "/api/media/\(id)", headers: ["X-User-Id": bob],
                                     body: Array(#"{"title":"mine"}"#.utf8)).status, 404)
        XCTAssertEqual(try http.send(method: "DELETE", path: "/api/media/\(id)", headers: ["X-User-Id": bob],
                                     body: nil).status, 404)
        XCTAssertEqual(try get("/api/media/\(id)", as: nil).status, 401)

        let deleted = try http.send(method: "DELETE", path: "/api/media/\(id)", headers: ["X-User-Id": alice], body: nil)
        XCTAssertEqual(deleted.status, 204)
        XCTAssertEqual(try get("/api/media/\(id)", as: alice).status, 404)
        XCTAssertEqual(try http.send(method: "DELETE", path: "/api/media/\(id)", headers: ["X-User-Id": alice],
                                     body: nil).status, 404)
        XCTAssertEqual(try stack.fetch(byKind["preview"]!["url"] as! String).status, 404)
        XCTAssertEqual(try leftovers(of: alice).files, [], "its files are removed")
    }

    func testEveryAcceptedFormatBecomesAReadyAsset() throws {
        let base = try Fixtures.jpeg(width: 640, height: 480)
        let inputs: [(String, String)] = [
            ("exif-rotated.jpg", try Fixtures.cameraJPEG()),
            ("cmyk.jpg", try Fixtures.convert("cmyk.jpg", [base, "-colorspace", "CMYK"])),
            ("progressive.jpg", try Fixtures.convert("progressive.jpg", [base, "-interlace", "Plane"])),
            ("deep.png", try Fixtures.convert("deep.png", [base, "-depth", "16"])),
            ("alpha.png", try Fixtures.convert("alpha.png", ["-size", "300x200", "xc:none", "-fill", "red",
                                                             "-draw", "circle 150,100 150,10", "-type", "TrueColorAlpha"])),
            ("palette.png", try Fixtures.convert("palette.png", [base, "-colors", "16", "-type", "Palette"])),
            ("image.webp", try Fixtures.vipsCopy(base, to: "image.webp")),
            ("animated.gif", try Fixtures.convert("animated.gif", ["-delay", "10", "-size", "120x90",
                                                                   "xc:red", "xc:blue", "xc:green"])),
            ("image.avif", try Fixtures.vipsCopy(base, to: "image.avif")),
            ("image.tiff", try Fixtures.convert("image.tiff", [base])),
        ]
        for (name, path) in inputs {
            let response = try upload(alice, file: try Fixtures.bytes(path), filename: name)
            XCTAssertEqual(response.status, 201, "\(name): \(response.text)")
            let variants = response.json()["variants"] as? [[String: Any]] ?? []
            XCTAssertEqual(variants.count, 3, name)
            if name == "exif-rotated.jpg" {
                XCTAssertEqual(response.json()["width"] as? Int, 200, "auto-rotated: portrait")
                XCTAssertEqual(variants.first { $0["kind"] as? String == "preview" }?["height"] as? Int, 400)
            }
            if name == "animated.gif" {
                XCTAssertEqual(variants.first { $0["kind"] as? String == "preview" }?["height"] as? Int, 90,
                               "first frame only, never upscaled")
            }
        }
    }

    func testBadInputGetsAClearErrorAndLeavesNothingBehind() throws {
        let jpeg = try Fixtures.bytes(Fixtures.jpeg(width: 800, height: 600))
        let svg = Array(#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.utf8)
        let html = Array("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>".utf8)
        var twoFiles = MultipartBody()
        twoFiles.file(filename: "a.jpg", jpeg)
        twoFiles.file("second", filename: "b.jpg", jpeg)
        var noBoundary = MultipartBody()
        noBoundary.file(filename: "a.jpg", jpeg)

        let cases: [(String, status: Int, code: String, send: () throws -> HTTPResponseMessage)] = [
            ("empty body", 400, "", { try self.http.send(method: "POST", path: "/api/media/upload",
                headers: ["X-User-Id": self.alice, "Content-Type": "multipart/form-data; boundary=x"], body: []) }),
            ("no file part", 400, "missing_file", { try self.upload(self.alice, file: nil, fields: ["title": "t"]) }),
            ("two file parts", 400, "too_many_files", { try self.http.send(method: "POST", path: "/api/media/upload",
                headers: ["X-User-Id": self.alice, "Content-Type": twoFiles.contentType], body: twoFiles.finished) }),
            ("missing boundary", 400, "invalid_multipart_boundary", { try self.http.send(method: "POST",
                path: "/api/media/upload", headers: ["X-User-Id": self.alice, "Content-Type": "multipart/form-data"],
                body: noBoundary.finished) }),
            ("broken boundary", 400, "", { try self.http.send(method: "POST", path: "/api/media/upload",
                headers: ["X-User-Id": self.alice, "Content-Type": "multipart/form-data; boundary=other"],
                body: noBoundary.finished) }),
            ("truncated form", 400, "truncated_multipart", { try self.http.send(method: "POST",
                path: "/api/media/upload", headers: ["X-User-Id": self.alice, "Content-Type": noBoundary.contentType],
                body: noBoundary.bytes) }),
            ("not multipart", 415, "unsupported_media_type", { try self.http.send(method: "POST",
                path: "/api/media/upload", headers: ["X-User-Id": self.alice, "Content-Type": "image/jpeg"], body: jpeg) }),
            ("truncated JPEG", 422, "undecodable_image", { try self.upload(self.alice, file: Array(jpeg.prefix(jpeg.count / 2))) }),
            ("30000×30000 PNG", 422, "image_too_large", {
                try self.upload(self.alice, file: Fixtures.pngDeclaring(width: 30000, height: 30000), filename: "bomb.png") }),
            ("SVG with script", 415, "unsupported_media_type", { try self.upload(self.alice, file: svg, filename: "x.svg") }),
            ("HTML named .jpg", 415, "unsupported_media_type", { try self.upload(self.alice, file: html, filename: "x.jpg") }),
            ("empty file", 400, "empty_file", { try self.upload(self.alice, file: []) }),
            ("tags not an array", 422, "invalid_tags", { try self.upload(self.alice, file: jpeg, fields: ["tags": "night"]) }),
            ("tags not strings", 422, "invalid_tags", { try self.upload(self.alice, file: jpeg, fields: ["tags": "[1,2]"]) }),
            ("title too long", 422, "invalid_title", {
                try self.upload(self.alice, file: jpeg, fields: ["title": String(repeating: "é", count: 256)]) }),
            ("unknown field", 400, "unknown_field", { try self.upload(self.alice, file: jpeg, fields: ["owner": "x"]) }),
            ("no identity", 401, "unauthorized", { try self.upload(nil, file: jpeg) }),
            ("unsafe user id", 401, "unauthorized", { try self.upload("../etc", file: jpeg) }),
        ]
        for (name, status, code, send) in cases {
            let response = try send()
            XCTAssertEqual(response.status, status, "\(name): \(response.text)")
            XCTAssertNotNil(response.errorCode, "\(name): JSON error body: \(response.text)")
            if !code.isEmpty { XCTAssertEqual(response.errorCode, code, "\(name): \(response.text)") }
        }
        let left = try leftovers(of: alice)
        XCTAssertEqual(left.rows, 0, "no row")
        XCTAssertEqual(left.files, [], "no file")
        XCTAssertEqual(left.temporary, [], "no temp file")
        XCTAssertEqual(try http.get("/api/media/_ping").status, 200, "the pool keeps serving")
    }

    func testBodiesOverTheLimitsAre413FromNginxAndFromTheService() throws {
        // nginx refuses a declared 3 GB body before reading it (the upload location's
        // client_max_body_size: 10% above the 2 GiB video limit).
        let request = "POST /api/media/upload HTTP/1.1\r\nHost: localhost\r\nX-User-Id: \(alice)\r\n"
            + "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 3000000000\r\nConnection: close\r\n\r\n"
        let fromNginx = try http.exchange(Array(request.utf8))
        XCTAssertEqual(fromNginx.status, 413)
        XCTAssertEqual(fromNginx.errorCode, "payload_too_large")

        // A pool with a 1 MiB file limit, which nginx lets through.
        let small = try LocalStack("limit", settings: ["MEDIA_MAX_UPLOAD_BYTES": "1m"])
        defer { small.stop() }
        for size in [1_500_000, 3_000_000] {
            var form = MultipartBody()
            form.file(filename: "big.jpg", [UInt8](repeating: 0xff, count: size))
            let response = try small.http.send(method: "POST", path: "/api/media/upload",
                                               headers: ["X-User-Id": alice, "Content-Type": form.contentType],
                                               body: form.finished)
            XCTAssertEqual(response.status, 413, "\(size): \(response.text)")
            XCTAssertEqual(response.errorCode, "file_too_large")
        }
        XCTAssertEqual(small.temporaryFiles(), [], "no temp file")
    }

    func testGarbageCollectionFindsOrphansStaleTempFilesAndAbandonedIngests() throws {
        let root = stack.runDirectory + "/uploads"
        let live = try upload(alice, file: try Fixtures.bytes(Fixtures.jpeg(width: 64, height: 48)))
        XCTAssertEqual(live.status, 201)
        let liveId = try XCTUnwrap(live.json()["id"] as? String)

        let orphanId = "corphan\(UInt64.random(in: 1_000_000_000_000_000...9_999_999_999_999_999))"
        let orphanKey = "\(alice)/\(orphanId)/original/lost.jpg"
        try stack.storeObject([1, 2, 3], key: orphanKey)
        let staleTemp = root + "/.tmp/upload-stale", freshTemp = root + "/.tmp/upload-fresh"
        _ = FileManager.default.createFile(atPath: staleTemp, contents: Data([1]))
        _ = FileManager.default.createFile(atPath: freshTemp, contents: Data([1]))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: staleTemp)
        defer { try? FileManager.default.removeItem(atPath: freshTemp) }
        let database = Database(configuration: try ConnectionConfiguration(url: XCTUnwrap(TestEnvironment.databaseURL)))
        let abandonedId = "cabandoned\(UInt64.random(in: 1_000_000_000_000_000...9_999_999_999_999_999))"
        try database.execute("""
            INSERT INTO `MediaAsset` (`id`, `userId`, `type`, `mimeType`, `sizeBytes`, `storageKey`, `status`, `updatedAt`)
            VALUES (?, ?, 'image', 'image/png', 1, 'k', 'processing', NOW(3) - INTERVAL 1 DAY)
            """, [abandonedId, alice])

        let environment = stack.serverEnvironment()
        let dryRun = try runProcess(TestEnvironment.binary, ["gc", "--dry-run"], environment: environment)
        XCTAssertEqual(dryRun.status, 0, dryRun.text)
        XCTAssertTrue(dryRun.text.contains("would remove orphan-objects: \(alice)/\(orphanId)/"), dryRun.text)
        XCTAssertTrue(dryRun.text.contains("would remove stale-temp-file: .tmp/upload-stale"), dryRun.text)
        XCTAssertTrue(dryRun.text.contains("would remove abandoned-ingest: \(alice)/\(abandonedId)"), dryRun.text)
        XCTAssertFalse(dryRun.text.contains(liveId), dryRun.text)
        XCTAssertFalse(dryRun.text.contains("upload-fresh"), dryRun.text)
        XCTAssertEqual(try stack.storedObjects(under: "\(alice)/\(orphanId)/"), [orphanKey], "a dry run removes nothing")

        let collected = try runProcess(TestEnvironment.binary, ["gc"], environment: environment)
        XCTAssertEqual(collected.status, 0, collected.text)
        XCTAssertEqual(try stack.storedObjects(under: "\(alice)/\(orphanId)/"), [])
        if !stack.storesInBucket {
            XCTAssertFalse(FileManager.default.fileExists(atPath: "\(root)/\(alice)/\(orphanId)"), "its folder too")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: staleTemp))
        XCTAssertTrue(FileManager.default.fileExists(atPath: freshTemp))
        XCTAssertNil(try database.queryOne("SELECT `id` FROM `MediaAsset` WHERE `id` = ?", [abandonedId]))
        XCTAssertEqual(try get("/api/media/\(liveId)", as: alice).status, 200, "the live asset is untouched")
        let original = (live.json()["variants"] as? [[String: Any]])?.first?["url"] as? String ?? ""
        XCTAssertEqual(try stack.fetch(original).status, 200)
    }

    func testHostileFilenamesBecomeSafeSlugs() throws {
        let jpeg = try Fixtures.bytes(Fixtures.jpeg(width: 64, height: 48))
        for filename in ["../../etc/passwd.jpg", "a\u{0}b.jpg", String(repeating: "ü", count: 300) + ".jpg", ".htaccess"] {
            let response = try upload(alice, file: jpeg, filename: filename)
            XCTAssertEqual(response.status, 201, "\(filename.prefix(20)): \(response.text)")
            let original = (response.json()["variants"] as? [[String: Any]])?.first?["url"] as? String ?? ""
            let name = original.components(separatedBy: "?")[0].split(separator: "/").last.map(String.init) ?? ""
            XCTAssertTrue(name.range(of: #"^[a-z0-9][a-z0-9-]{0,59}\.jpg$"#, options: .regularExpression) != nil, name)
            XCTAssertEqual(try stack.fetch(original).status, 200)
        }
    }

    func testInvalidIdsAndParametersAre4xx() throws {
        // nginx resolves "../" itself; an encoded "/" reaches the service inside one segment.
        for id in ["nope", "a%2Fb", String(repeating: "c", count: 300), "c" + String(repeating: "0", count: 24)] {
            let escaped = id
            XCTAssertEqual(try get("/api/media/\(escaped)", as: alice).status, 404, id)
            XCTAssertEqual(try http.send(method: "DELETE", path: "/api/media/\(escaped)", headers: ["X-User-Id": alice],
                                         body: nil).status, 404, id)
            XCTAssertEqual(try http.send(method: "PATCH", path: "/api/media/\(escaped)",
                                         headers: ["X-User-Id": alice], body: Array("{}".utf8)).status, 404, id)
        }
        XCTAssertEqual(try get("/api/media?limit=0", as: alice).errorCode, "invalid_limit")
        XCTAssertEqual(try get("/api/media?limit=101", as: alice).errorCode, "invalid_limit")
        XCTAssertEqual(try get("/api/media?cursor=garbage", as: alice).errorCode, "invalid_cursor")
        XCTAssertEqual(try get("/api/media?type=audio", as: alice).errorCode, "invalid_type")
    }

    /// A cursor is validated down to what the column can hold: one a client forged with a
    /// date no DATETIME(3) holds used to trap in the worker (nginx answered 503 and the pool
    /// respawned it). Now it is a 400 and the worker serves on.
    func testForgedCursorDatesAre400AndNoWorkerDies() throws {
        let workers = Set(try stack.workerPIDs())
        let restarts = try XCTUnwrap(stack.status()["restarts"] as? Int)
        let id = "c" + String(repeating: "a", count: 24)
        for milliseconds in ["9223372036854775807", "-99999999999999", "-9223372036854775808", "253402300800000"] {
            let token = Data("v1:\(milliseconds):\(id)".utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            for path in ["/api/media?cursor=\(token)", "/api/media/jobs?cursor=\(token)"] {
                let response = try get(path, as: alice)
                XCTAssertEqual(response.status, 400, "\(path): \(response.text)")
                XCTAssertEqual(response.errorCode, "invalid_cursor", path)
            }
        }
        XCTAssertEqual(try get("/api/media", as: alice).status, 200)
        XCTAssertEqual(Set(try stack.workerPIDs()), workers)
        XCTAssertEqual(try XCTUnwrap(stack.status()["restarts"] as? Int), restarts)
    }

    /// A library page carries a weak validator; a repeat request with it gets 304 until
    /// anything on the page changes: a title, the tags, a delete, a new upload.
    func testLibraryPageValidatorChangesWithEveryChangeOnThePage() throws {
        let user = "u-etag-\(UInt32.random(in: 0...UInt32.max))"
        let jpeg = try Fixtures.bytes(Fixtures.jpeg(width: 40, height: 30))
        let first = try XCTUnwrap(try upload(user, file: jpeg).json()["id"] as? String)
        _ = try upload(user, file: jpeg)

        func page(_ validator: String? = nil) throws -> HTTPResponseMessage {
            var headers = ["X-User-Id": user]
            if let validator { headers["If-None-Match"] = validator }
            return try http.get("/api/media?limit=10", headers: headers)
        }
        func validator() throws -> String {
            let response = try page()
            XCTAssertEqual(response.status, 200, response.text)
            let tag = try XCTUnwrap(response.header("ETag"))
            XCTAssertTrue(tag.hasPrefix("W/\""), tag)
            return tag
        }
        var seen: [String] = []
        func changed(_ what: String) throws {
            let tag = try validator()
            XCTAssertFalse(seen.contains(tag), "\(what) did not change the validator")
            if let previous = seen.last { XCTAssertEqual(try page(previous).status, 200, what) }
            let repeated = try page(tag)
            XCTAssertEqual(repeated.status, 304, what)
            XCTAssertTrue(repeated.body.isEmpty)
            XCTAssertEqual(repeated.header("ETag"), tag)
            XCTAssertEqual(try page("\"x\", " + tag.dropFirst(2)).status, 304, "a strong spelling in a list matches weakly")
            seen.append(tag)
        }
        try changed("the first look")
        XCTAssertEqual(try page("*").status, 304)
        XCTAssertEqual(try page().header("Cache-Control"), "private, no-cache")

        let patch = { (body: String) in
            try self.http.send(method: "PATCH", path: "/api/media/\(first)",
                               headers: ["X-User-Id": user, "Content-Type": "application/json"], body: Array(body.utf8))
        }
        XCTAssertEqual(try patch(#"{"title":"Renamed"}"#).status, 200)
        try changed("a new title")
        XCTAssertEqual(try patch(#"{"tags":["a"]}"#).status, 200)
        try changed("new tags")
        XCTAssertEqual(try upload(user, file: jpeg).status, 201)
        try changed("a new upload")
        XCTAssertEqual(try http.send(method: "DELETE", path: "/api/media/\(first)", headers: ["X-User-Id": user],
                                     body: nil).status, 204)
        try changed("a delete")
        // Another user's page is not this one's, whatever the validator.
        XCTAssertEqual(try http.get("/api/media?limit=10", headers: ["X-User-Id": bob, "If-None-Match": seen.last!]).status,
                       200)
    }
}
