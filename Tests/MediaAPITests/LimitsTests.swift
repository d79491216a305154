import Foundation
import TestSupport
import XCTest

/// The limits that protect users and cost, end to end through nginx: the storage quota
/// under concurrent uploads, `GET /api/media/usage`, and the per-user generation limits
/// (nginx's request rate limit: NginxAPITests).
final class LimitsTests: XCTestCase {
    func user(_ role: String) -> String { "u-\(role)-\(UInt32.random(in: 0...UInt32.max))" }

    func testConcurrentUploadsNearTheQuotaNeverExceedIt() throws {
        let photo = try Fixtures.bytes(Fixtures.jpeg(width: 96, height: 64))
        let size = Int64(photo.count)
        // Room for exactly five, and some to spare that no sixth fits in.
        let quota = size * 5 + size / 2
        let stack = try LocalStack("quota", settings: ["MEDIA_USER_QUOTA_BYTES": String(quota), "MEDIA_WORKERS": "4"])
        defer { stack.stop() }
        let alice = user("quota")

        let answers = concurrently(16) { index in try? stack.upload(photo, filename: "p\(index).jpg", as: alice) }
        let statuses = answers.map { $0?.status ?? 0 }
        XCTAssertEqual(statuses.filter { $0 == 201 }.count, 5, "\(statuses)")
        XCTAssertEqual(statuses.filter { $0 == 413 }.count, 11, "\(statuses)")
        for case let refused? in answers where refused.status == 413 {
            XCTAssertEqual(refused.errorCode, "quota_exceeded")
            let details = try XCTUnwrap((refused.json()["error"] as? [String: Any])?["details"] as? [String: Any])
            XCTAssertEqual(details["limitBytes"] as? Int64, quota)
            XCTAssertEqual(details["fileBytes"] as? Int64, size)
            let used = try XCTUnwrap(details["usedBytes"] as? Int64)
            XCTAssertGreaterThan(used + size, quota, "refused only when it would not fit")
        }

        var usage = try stack.http.get("/api/media/usage", headers: ["X-User-Id": alice]).json()
        XCTAssertEqual(usage["bytes"] as? Int64, size * 5)
        XCTAssertEqual(usage["count"] as? Int, 5)
        XCTAssertEqual(usage["limitBytes"] as? Int64, quota)
        XCTAssertEqual(usage["remainingBytes"] as? Int64, quota - size * 5)
        XCTAssertEqual(((usage["byType"] as? [String: Any])?["image"] as? [String: Any])?["count"] as? Int, 5)
        XCTAssertEqual(((usage["byType"] as? [String: Any])?["video"] as? [String: Any])?["bytes"] as? Int64, 0)
        // The refused uploads left nothing: no row (the library holds five), no temp file.
        let library = try stack.http.get("/api/media?limit=100", headers: ["X-User-Id": alice]).json()
        XCTAssertEqual((library["items"] as? [[String: Any]])?.count, 5)
        XCTAssertEqual(try stack.storedObjects(under: alice + "/").filter { $0.contains("/original/") }.count, 5)
        XCTAssertEqual(stack.temporaryFiles(), [])

        // A delete makes room again; another user has a quota of their own.
        let first = try XCTUnwrap((library["items"] as? [[String: Any]])?.first?["id"] as? String)
        XCTAssertEqual(try stack.http.send(method: "DELETE", path: "/api/media/\(first)", headers: ["X-User-Id": alice],
                                           body: nil).status, 204)
        XCTAssertEqual(try stack.upload(photo, filename: "again.jpg", as: alice).status, 201)
        XCTAssertEqual(try stack.upload(photo, filename: "full.jpg", as: alice).errorCode, "quota_exceeded")
        XCTAssertEqual(try stack.upload(photo, filename: "other.jpg", as: user("other")).status, 201)
        usage = try stack.http.get("/api/media/usage", headers: ["X-User-Id": alice]).json()
        XCTAssertEqual(usage["bytes"] as? Int64, size * 5)
    }

    func testGenerationLimitsPerUserAnswer429WithRetryAfter() throws {
        // Jobs pause after the provider's bytes are saved, so they stay running a while.
        let stack = try LocalStack("genlimit", settings: [
            "MEDIA_GENERATION_MAX_QUEUED": "2", "MEDIA_GENERATION_PER_HOUR": "4",
            "MEDIA_DEBUG_GENERATION_PAUSE": "1500ms", "MEDIA_WORKERS": "3",
        ])
        defer { stack.stop() }
        let alice = user("gen")
        @Sendable func generate(_ prompt: String) throws -> HTTPResponseMessage {
            try stack.generate(as: alice, #"{"prompt":"\#(prompt)","params":{"width":256,"height":256}}"#)
        }
        func waitForIdle() throws {
            XCTAssertTrue(try stack.waitUntil(seconds: 30) {
                let page = try stack.http.get("/api/media/jobs?limit=100", headers: ["X-User-Id": alice]).json()
                return (page["items"] as? [[String: Any]] ?? []).allSatisfy {
                    ["succeeded", "failed"].contains($0["status"] as? String ?? "")
                }
            })
        }

        // Eight at once on three workers: exactly two get in, the others are told to wait.
        let answers = concurrently(8) { index in try? generate("a lighthouse \(index)") }
        XCTAssertEqual(answers.filter { $0?.status == 202 }.count, 2, "\(answers.map { $0?.status ?? 0 })")
        for case let refused? in answers where refused.status != 202 {
            XCTAssertEqual(refused.status, 429)
            XCTAssertEqual(refused.errorCode, "generation_limit")
            XCTAssertEqual(refused.header("Retry-After"), "10")
            let details = (refused.json()["error"] as? [String: Any])?["details"] as? [String: Any]
            XCTAssertEqual(details?["limit"] as? String, "queued")
            XCTAssertEqual(details?["max"] as? Int, 2)
        }
        try waitForIdle()
        // The hour's allowance: two more, then the fifth waits for the first to leave the hour.
        XCTAssertEqual(try generate("third").status, 202)
        XCTAssertEqual(try generate("fourth").status, 202)
        try waitForIdle()
        let fifth = try generate("fifth")
        XCTAssertEqual(fifth.status, 429, fifth.text)
        XCTAssertEqual(((fifth.json()["error"] as? [String: Any])?["details"] as? [String: Any])?["limit"] as? String,
                       "per_hour")
        let wait = try XCTUnwrap(fifth.header("Retry-After").flatMap(Int.init))
        XCTAssertTrue((3500...3600).contains(wait), "about an hour after the first job: \(wait)")
        // Another user is not affected; the four images count in the user's usage (no quota).
        XCTAssertEqual(try stack.http.send(method: "POST", path: "/api/media/generate",
                                           headers: ["X-User-Id": user("gen-other"), "Content-Type": "application/json"],
                                           body: Array(#"{"prompt":"hers"}"#.utf8)).status, 202)
        let usage = try stack.http.get("/api/media/usage", headers: ["X-User-Id": alice]).json()
        XCTAssertEqual(usage["count"] as? Int, 4)
        XCTAssertTrue(usage["limitBytes"] is NSNull, "\(usage)")
        XCTAssertTrue(usage["remainingBytes"] is NSNull, "\(usage)")
    }
}
