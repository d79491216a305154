#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TestSupport
import XCTest

/// Signed delivery (MEDIA_DELIVERY=signed) with each origin: nginx `secure_link` URLs for
/// local storage, S3 presigned GETs for a bucket. A URL works until it expires and not
/// after; a forged signature, another path under the same signature and an unsigned
/// request are refused; and every response that carries a URL carries a signed one.
final class DeliveryTests: XCTestCase {
    /// URLs valid for 2 to 3 seconds (a 2 s lifetime rounded up to a 1 s window).
    let ttl = ["MEDIA_DELIVERY": "signed", "MEDIA_SIGNED_URL_TTL": "2s"]

    func testSignedLocalURLsExpireAndRefuseForgeries() throws {
        let stack = try LocalStack("signed", settings: ttl.merging(["MEDIA_ORIGIN": "local"]) { $1 })
        defer { stack.stop() }
        try checkSignedDelivery(stack, signature: "md5", refusedStatus: 403, expiredStatus: 410)
    }

    func testPresignedBucketURLsExpireAndRefuseForgeries() throws {
        let bucket = TestOrigin.bucketOrigin(signed: true)
        guard bucket["MEDIA_R2_ENDPOINT"] != nil else { throw TestFailure("no S3 server (run ./scripts/test)") }
        let stack = try LocalStack("presigned", settings: ttl.merging(bucket) { $1 })
        defer { stack.stop() }
        try checkSignedDelivery(stack, signature: "X-Amz-Signature", refusedStatus: 403, expiredStatus: 403)
    }

    func checkSignedDelivery(_ stack: LocalStack, signature: String, refusedStatus: Int, expiredStatus: Int) throws {
        let photo = try Fixtures.bytes(Fixtures.jpeg(width: 640, height: 480))
        let response = try stack.upload(photo, filename: "a.jpg", as: "u-alice")
        XCTAssertEqual(response.status, 201, response.text)
        let asset = response.json()
        let id = try XCTUnwrap(asset["id"] as? String)
        let urls = try variantURLs(asset)
        XCTAssertEqual(urls.count, 3)

        // Every response that carries a URL signs it: upload (above), show, library, owner
        // media, batch, and a generation job's result.
        XCTAssertEqual(try stack.http.send(method: "POST", path: "/api/media/\(id)/attach",
                                           headers: ["X-User-Id": "u-alice", "Content-Type": "application/json"],
                                           body: Array(#"{"ownerType":"theme","ownerId":"theme-alice-2","role":"gallery"}"#.utf8))
            .status, 201)
        let job = try stack.http.send(method: "POST", path: "/api/media/generate",
                                      headers: ["X-User-Id": "u-alice", "Content-Type": "application/json"],
                                      body: Array(#"{"prompt":"a signed lighthouse","params":{"width":256,"height":256}}"#.utf8))
        XCTAssertEqual(job.status, 202, job.text)
        let jobId = try XCTUnwrap(job.json()["id"] as? String)
        var finished: [String: Any] = [:]
        _ = try stack.waitUntil(seconds: 30) {
            finished = try stack.http.get("/api/media/jobs/\(jobId)", headers: ["X-User-Id": "u-alice"]).json()
            return finished["status"] as? String == "succeeded"
        }
        let sources: [(String, [String: Any])] = [
            ("upload", asset),
            ("show", try stack.http.get("/api/media/\(id)", headers: ["X-User-Id": "u-alice"]).json()),
            ("library", try item(id, in: stack.http.get("/api/media?limit=100", headers: ["X-User-Id": "u-alice"]).json())),
            ("owner media", try attachedAsset(id, in: stack.http.get("/api/owners/theme/theme-alice-2/media",
                                                                         headers: ["X-User-Id": "u-alice"]).json())),
            ("batch", try attachedAsset(id, in: ["items": (stack.http.get("/api/owners/theme/media?ids=theme-alice-2",
                                                                          headers: ["X-User-Id": "u-alice"]).json()["owners"]
                as? [String: Any])?["theme-alice-2"] ?? []])),
            ("job", try XCTUnwrap(finished["resultAsset"] as? [String: Any], "\(finished)")),
        ]
        for (name, shown) in sources {
            for url in try variantURLs(shown).values {
                XCTAssertTrue(url.contains(signature + "="), "\(name): \(url)")
                XCTAssertEqual(try stack.fetch(url).status, 200, "\(name): \(url)")
            }
        }

        let original = try XCTUnwrap(urls["original"]), preview = try XCTUnwrap(urls["preview"])
        let served = try stack.fetch(original)
        XCTAssertEqual(served.body, photo)
        XCTAssertEqual(served.header("Content-Disposition"), "attachment")
        if !stack.storesInBucket {
            XCTAssertEqual(served.header("Cache-Control"), "private, max-age=2", "never in a shared cache")
        }

        let (previewPath, previewQuery) = split(preview)
        let (originalPath, _) = split(original)
        let forged = previewQuery.replacingOccurrences(
            of: signature + "=", with: signature + "=" + (previewQuery.contains(signature + "=A") ? "B" : "A"))
        for (name, url) in [("forged signature", previewPath + "?" + forged),
                            ("another path under the same signature", originalPath + "?" + previewQuery),
                            ("unsigned", previewPath)] {
            XCTAssertEqual(try stack.fetch(url).status, refusedStatus, "\(name): \(url)")
        }

        // After its expiry the same URL is refused, and the library page's validator has
        // moved on: a revalidated page never holds expired URLs.
        let page = try stack.http.get("/api/media?limit=100", headers: ["X-User-Id": "u-alice"])
        let validator = try XCTUnwrap(page.header("ETag"))
        let expires = try XCTUnwrap(expiry(of: preview), preview)
        let wait = expires - Date().timeIntervalSince1970 + 1.2
        XCTAssertLessThanOrEqual(wait, 4.5, "valid for the TTL plus at most a window")
        if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
        XCTAssertEqual(try stack.fetch(preview).status, expiredStatus, preview)
        XCTAssertEqual(try stack.http.get("/api/media?limit=100", headers: ["X-User-Id": "u-alice", "If-None-Match": validator])
            .status, 200, "a new window, new URLs: no 304")
        // And a fresh response has a fresh URL that works.
        let fresh = try variantURLs(stack.http.get("/api/media/\(id)", headers: ["X-User-Id": "u-alice"]).json())
        XCTAssertNotEqual(fresh["preview"], preview)
        XCTAssertEqual(try stack.fetch(try XCTUnwrap(fresh["preview"])).status, 200)
    }

    func variantURLs(_ asset: [String: Any]) throws -> [String: String] {
        var urls: [String: String] = [:]
        for variant in asset["variants"] as? [[String: Any]] ?? [] {
            urls[try XCTUnwrap(variant["kind"] as? String)] = try XCTUnwrap(variant["url"] as? String)
        }
        return urls
    }

    func item(_ id: String, in page: [String: Any]) throws -> [String: Any] {
        try XCTUnwrap((page["items"] as? [[String: Any]])?.first { $0["id"] as? String == id }, "\(id) in \(page)")
    }

    func attachedAsset(_ id: String, in page: [String: Any]) throws -> [String: Any] {
        try XCTUnwrap((page["items"] as? [[String: Any]])?.compactMap { $0["asset"] as? [String: Any] }
            .first { $0["id"] as? String == id }, "\(id) in \(page)")
    }

    func split(_ url: String) -> (String, String) {
        let parts = url.split(separator: "?", maxSplits: 1).map(String.init)
        return (parts[0], parts.count > 1 ? parts[1] : "")
    }

    /// Unix time a signed URL stops working: `expires=` (nginx), or X-Amz-Date + X-Amz-Expires.
    func expiry(of url: String) -> Double? {
        let query = Dictionary(split(url).1.split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }, uniquingKeysWith: { $1 })
        if let expires = query["expires"].flatMap(Double.init) { return expires }
        guard let date = query["X-Amz-Date"], let lifetime = query["X-Amz-Expires"].flatMap(Double.init) else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.date(from: date).map { $0.timeIntervalSince1970 + lifetime }
    }
}
