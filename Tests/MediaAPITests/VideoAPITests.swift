import Foundation
import MariaDB
import TestSupport
import XCTest

/// Video uploads through nginx: analysis, posters, delivery with byte ranges, and every
/// hostile container refused with a JSON error and nothing left behind.
final class VideoAPITests: XCTestCase {
    nonisolated(unsafe) static var sharedStack: LocalStack?

    var stack: LocalStack { Self.sharedStack! }
    let user = "u-video-\(UInt32.random(in: 0...UInt32.max))"

    override class func setUp() {
        sharedStack = try? LocalStack("video")
    }

    override class func tearDown() {
        sharedStack?.stop()
        sharedStack = nil
    }

    override func setUpWithError() throws {
        _ = try XCTUnwrap(Self.sharedStack, "the stack did not start")
    }

    func upload(_ name: String, to stack: LocalStack? = nil, as user: String? = nil,
                fields: [String: String] = [:]) throws -> HTTPResponseMessage {
        var form = MultipartBody()
        for (field, value) in fields.sorted(by: { $0.key < $1.key }) { form.field(field, value) }
        // The client's name and type say MP4 whatever the bytes are: only the bytes count.
        form.file(filename: name, contentType: "video/mp4", try VideoFixtures.bytes(name))
        return try (stack ?? self.stack).http.send(
            method: "POST", path: "/api/media/upload",
            headers: ["X-User-Id": user ?? self.user, "Content-Type": form.contentType], body: form.finished)
    }

    /// The mean sample value of an image file, by libvips' CLI.
    func meanLevel(of bytes: [UInt8]) throws -> Double {
        let path = Fixtures.directory + "/poster-\(UUID().uuidString).img"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw TestFailure("cannot write \(path)") }
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try XCTUnwrap(Double(Fixtures.run("/usr/bin/vips", ["avg", path]).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    func testVideosGetTheirDisplayedSizeDurationPosterAndVariants() throws {
        let cases: [(file: String, mime: String, width: Int, height: Int, rotation: Int, audio: Bool)] = [
            ("landscape.mp4", "video/mp4", 320, 180, 0, false),
            ("portrait.mp4", "video/mp4", 180, 320, 90, false),
            ("moov-at-end.mov", "video/quicktime", 320, 180, 0, false),
            ("with-audio.webm", "video/webm", 320, 180, 0, true),
        ]
        for item in cases {
            let response = try upload(item.file)
            XCTAssertEqual(response.status, 201, "\(item.file): \(response.text)")
            let asset = response.json()
            XCTAssertEqual(asset["type"] as? String, "video", item.file)
            XCTAssertEqual(asset["mimeType"] as? String, item.mime, item.file)
            XCTAssertEqual([asset["width"] as? Int, asset["height"] as? Int], [item.width, item.height], "\(item.file): as displayed")
            let duration = try XCTUnwrap(asset["durationMs"] as? Int, item.file)
            XCTAssertLessThanOrEqual(abs(duration - 2000), 40, "\(item.file): within one frame (25 fps) of 2 s")
            let video = try XCTUnwrap((asset["metadata"] as? [String: Any])?["video"] as? [String: Any], item.file)
            XCTAssertEqual(video["rotation"] as? Int, item.rotation, item.file)
            XCTAssertEqual(video["hasAudio"] as? Bool, item.audio, item.file)
            XCTAssertEqual(video["frameRate"] as? Double, 25, item.file)
            XCTAssertNotNil(video["codec"] as? String)
            // As stored: the same facts read back from the metadata column.
            let id = try XCTUnwrap(asset["id"] as? String)
            let shown = try stack.http.get("/api/media/\(id)", headers: ["X-User-Id": user]).json()
            XCTAssertEqual((shown["metadata"] as? [String: Any]).map { NSDictionary(dictionary: $0) },
                           NSDictionary(dictionary: ["video": video]), item.file)

            let variants = try XCTUnwrap(asset["variants"] as? [[String: Any]])
            XCTAssertEqual(variants.map { $0["kind"] as? String }, ["original", "thumbnail", "preview", "poster"], item.file)
            for variant in variants.dropFirst() {
                let poster = variant["kind"] as? String == "poster"
                XCTAssertEqual(variant["format"] as? String, poster ? "jpeg" : "webp")
                let url = try XCTUnwrap(variant["url"] as? String)
                let served = try stack.fetch(url)
                XCTAssertEqual(served.status, 200, "\(item.file) \(url)")
                XCTAssertEqual(served.header("Content-Type"), poster ? "image/jpeg" : "image/webp")
                XCTAssertNil(served.header("Content-Disposition"), "variants show inline")
                // Upright: the variant has the video's displayed orientation.
                let (width, height) = (try XCTUnwrap(variant["width"] as? Int), try XCTUnwrap(variant["height"] as? Int))
                XCTAssertEqual(width > height, item.width > item.height, "\(item.file) \(variant["kind"]!)")
                if poster {
                    XCTAssertEqual([width, height], [item.width, item.height], "the poster is the frame itself")
                    XCTAssertGreaterThan(try meanLevel(of: served.body), 40, "\(item.file): the poster is not a black frame")
                }
            }

            // The original plays and seeks: byte ranges, its own type, never sniffed.
            let original = try XCTUnwrap(variants.first?["url"] as? String)
            let range = try stack.fetch(original, headers: ["Range": "bytes=1000-1999"])
            XCTAssertEqual(range.status, 206, item.file)
            XCTAssertEqual(range.body, Array(try VideoFixtures.bytes(item.file)[1000...1999]), item.file)
            XCTAssertEqual(range.header("Content-Range"), "bytes 1000-1999/\(try VideoFixtures.bytes(item.file).count)")
            XCTAssertEqual(range.header("Content-Type"), item.mime)
            if !stack.storesInBucket { XCTAssertEqual(range.header("X-Content-Type-Options"), "nosniff") }
        }

        let videos = try stack.http.get("/api/media?type=video", headers: ["X-User-Id": user]).json()["items"] as? [[String: Any]]
        XCTAssertEqual(videos?.count, cases.count)
        let images = try stack.http.get("/api/media?type=image", headers: ["X-User-Id": user]).json()["items"] as? [[String: Any]]
        XCTAssertEqual(images?.count, 0)
    }

    func testOwnerAndBatchMediaShowThePoster() throws {
        let attached = try upload("landscape.mp4", as: "u-alice",
                                  fields: ["ownerType": "theme", "ownerId": "theme-alice-2", "role": "reference"])
        XCTAssertEqual(attached.status, 201, attached.text)
        let assetId = try XCTUnwrap(attached.json()["id"] as? String)
        defer { _ = try? stack.http.send(method: "DELETE", path: "/api/media/\(assetId)", headers: ["X-User-Id": "u-alice"], body: nil) }
        for path in ["/api/owners/theme/theme-alice-2/media", "/api/owners/theme/media?ids=theme-alice-2"] {
            let response = try stack.http.get(path, headers: ["X-User-Id": "u-alice"])
            XCTAssertEqual(response.status, 200, response.text)
            XCTAssertTrue(response.text.contains("/poster/"), "\(path) shows the poster: \(response.text)")
        }
    }

    /// Each refusal is a JSON error with its status and code, and leaves nothing behind:
    /// no row, no file, no temp file, no ffprobe or ffmpeg still running.
    func assertRefusals(_ cases: [(file: String, status: Int, code: String)], in stack: LocalStack,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let user = "u-hostile-\(UInt32.random(in: 0...UInt32.max))"
        for item in cases {
            let response = try upload(item.file, to: stack, as: user)
            XCTAssertEqual(response.status, item.status, "\(item.file): \(response.text)", file: file, line: line)
            XCTAssertEqual(response.errorCode, item.code, "\(item.file): \(response.text)", file: file, line: line)
            let left = try leftovers(of: user, in: stack)
            XCTAssertEqual(left.rows, 0, "\(item.file): no row", file: file, line: line)
            XCTAssertEqual(left.files, [], "\(item.file): no file", file: file, line: line)
            XCTAssertEqual(left.temporary, [], "\(item.file): no temp file", file: file, line: line)
        }
        XCTAssertEqual(try runProcess("/usr/bin/pgrep", ["-x", "ffprobe|ffmpeg"]).text, "", "no tool left running",
                       file: file, line: line)
        XCTAssertEqual(try stack.http.get("/api/media/_ping").status, 200, "the pool keeps serving", file: file, line: line)
    }

    func testHostileContainersAreRefusedLeavingNothing() throws {
        try assertRefusals([
            ("hls-playlist.mp4", 415, "unsupported_media_type"),     // file:///etc/passwd and an http URL
            ("concat-list.mp4", 415, "unsupported_media_type"),
            ("truncated-moov.mp4", 422, "undecodable_video"),
            ("missing-moov.mp4", 422, "undecodable_video"),
            ("zero-mdat.mp4", 422, "undecodable_video"),
            ("huge-claims-unknown-codec.mkv", 422, "video_too_large"),  // 32768×32768, 10 hours
            ("huge-claims.mp4", 422, "undecodable_video"),              // the same claims in an MP4's boxes
            ("attachment-only.mkv", 415, "unsupported_media_type"),
            ("audio-only.m4a", 415, "unsupported_media_type"),
            ("corrupt-cluster.webm", 422, "undecodable_video"),
            ("unknown-codec.mkv", 422, "undecodable_video"),           // a codec ffmpeg lacks
            ("zip-polyglot.mp4", 415, "unsupported_media_type"),
            ("html-polyglot.mp4", 415, "unsupported_media_type"),
            ("avi.avi", 415, "unsupported_media_type"),
            ("flv.flv", 415, "unsupported_media_type"),
            ("mpegts.ts", 415, "unsupported_media_type"),
        ], in: stack)
        let playlist = try upload("hls-playlist.mp4")
        XCTAssertTrue(playlist.text.contains("MP4/M4V, QuickTime MOV, WebM and Matroska"), "lists what is accepted: \(playlist.text)")
    }

    func testEachLimitRefusesAVideoThatIsOtherwiseFine() throws {
        let limited = try LocalStack("video-limits", settings: [
            "MEDIA_MAX_VIDEO_BYTES": "95k", "MEDIA_MAX_VIDEO_STREAMS": "2", "MEDIA_MAX_VIDEO_SECONDS": "1",
        ])
        defer { limited.stop() }
        try assertRefusals([
            ("landscape.mp4", 413, "file_too_large"),         // 99.6 kB
            ("three-streams.mkv", 422, "too_many_streams"),   // 62 kB, 1 s, 3 streams
            ("with-audio.webm", 422, "video_too_long"),       // 92 kB, 2 streams, 2 s
        ], in: limited)

        let small = try LocalStack("video-frame", settings: ["MEDIA_MAX_VIDEO_FRAME": "320x160"])
        defer { small.stop() }
        try assertRefusals([("landscape.mp4", 422, "video_too_large"), ("portrait.mp4", 422, "video_too_large")], in: small)
    }

    /// The time limit fires on a real ffprobe run: killed, reaped, nothing left.
    func testToolTimeLimitRefusesAndReaps() throws {
        let hurried = try LocalStack("video-timeout", settings: ["MEDIA_VIDEO_PROBE_TIMEOUT": "1ms"])
        defer { hurried.stop() }
        try assertRefusals([("landscape.mp4", 422, "video_analysis_timeout")], in: hurried)
    }

    /// The tools' time limits must leave the request's: the pool kills a worker at MEDIA_REQUEST_TIMEOUT.
    func testVideoLimitsAreValidatedAtStart() throws {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MEDIA_") }
        environment["DATABASE_URL"] = TestEnvironment.databaseURL
        environment["MEDIA_REQUEST_TIMEOUT"] = "30s"
        environment["MEDIA_VIDEO_PROBE_TIMEOUT"] = "15s"
        environment["MEDIA_VIDEO_POSTER_TIMEOUT"] = "20s"
        environment["MEDIA_MAX_VIDEO_FRAME"] = "8192x0"
        environment["MEDIA_MAX_VIDEO_BYTES"] = "-1"
        let result = try runProcess(TestEnvironment.binary, ["serve"], environment: environment)
        XCTAssertEqual(result.status, 78)
        for name in ["MEDIA_VIDEO_POSTER_TIMEOUT", "MEDIA_MAX_VIDEO_FRAME", "MEDIA_MAX_VIDEO_BYTES"] {
            XCTAssertTrue(result.text.contains(name), "\(name): \(result.text)")
        }
    }

    /// A worker killed mid-upload (the time limit, a crash) cannot remove its staged file
    /// (up to MEDIA_MAX_VIDEO_BYTES): the pool does when it reaps the worker.
    func testAKilledWorkersStagedFilesAreRemovedByThePool() throws {
        let pid = try XCTUnwrap(stack.workerPIDs().first)
        let temporary = stack.runDirectory + "/uploads/.tmp/"
        let its = ["upload-\(pid)-cleftover", "upload-\(pid)-cleftover.frame.tiff"], another = "upload-999999-cother"
        for name in its + [another] { XCTAssertTrue(FileManager.default.createFile(atPath: temporary + name, contents: Data([1]))) }
        defer { try? FileManager.default.removeItem(atPath: temporary + another) }
        kill(pid, SIGKILL)
        XCTAssertTrue(stack.waitUntil(seconds: 5) { its.allSatisfy { !FileManager.default.fileExists(atPath: temporary + $0) } },
                      "the dead worker's files are removed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: temporary + another), "another process's files stay")
        XCTAssertTrue(stack.log().contains("pool.worker_files_removed"))
    }
}
