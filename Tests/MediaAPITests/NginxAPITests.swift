import Foundation
import TestSupport
import XCTest

/// What nginx itself answers under /api/: the request rate limit (media-http.conf), and the
/// service's JSON error shape for every error it produces:
/// a request line it refuses, a path normalised out of the API, a method it does not pass
/// on, a target too long, the pool down (a body too large: LibraryAPITests). Other paths keep nginx's own pages.
final class NginxAPITests: XCTestCase {
    func testNginxsOwnErrorsUnderTheAPIAreJSON() throws {
        let stack = try LocalStack("nginxapi")
        defer { stack.stop() }
        let user = ["X-User-Id": "u-alice"]
        let cases: [(String, String, [UInt8]?, Int, String)] = [
            ("DELETE", "/api/media/%00", nil, 400, "bad_request"),
            ("GET", "/api/media/%zz", nil, 400, "bad_request"),
            ("GET", "/api/media/../../../../../etc/passwd", nil, 400, "bad_request"),
            ("GET", "/api/media/%2e%2e%2f%2e%2e%2fetc%2fpasswd", nil, 404, "not_found"),
            ("POST", "/api/media/%2e%2e/%2e%2e/index.html", [], 404, "not_found"),
            ("GET", "/api/owners/scene/s1/media/%2e%2e%2f%2e%2e%2f%2e%2e%2f", nil, 404, "not_found"),
            ("TRACE", "/api/media", nil, 405, "method_not_allowed"),
            ("GET", "/api/media/" + String(repeating: "a", count: 9000), nil, 414, "uri_too_long"),
        ]
        for (method, path, body, status, code) in cases {
            let answer = try stack.http.send(method: method, path: path, headers: user, body: body)
            XCTAssertEqual(answer.status, status, "\(method) \(path.prefix(60)): \(answer.text.prefix(200))")
            XCTAssertEqual(answer.header("Content-Type"), "application/json", "\(method) \(path.prefix(60))")
            XCTAssertEqual(answer.errorCode, code, "\(method) \(path.prefix(60)): \(answer.text.prefix(200))")
        }
        XCTAssertNotNil(try stack.http.send(method: "TRACE", path: "/api/media", body: nil).header("Allow"))
        // Outside the API, nginx's own pages as before.
        let other = try stack.http.get("/elsewhere/%00")
        XCTAssertEqual(other.status, 400)
        XCTAssertEqual(other.header("Content-Type"), "text/html")

        // No worker: 503 with Retry-After, as JSON.
        try stack.stack(["pool-down"])
        let down = try stack.http.get("/api/media", headers: user)
        XCTAssertEqual(down.status, 503, down.text)
        XCTAssertEqual(down.errorCode, "service_unavailable")
        XCTAssertEqual(down.header("Retry-After"), "1")
    }

    func testNginxRateLimitAnswers429InTheJSONShape() throws {
        let stack = try LocalStack("ratelimit", settings: ["MEDIA_API_RATE": "2r/s", "MEDIA_API_BURST": "3"])
        defer { stack.stop() }
        let answers = concurrently(12) { _ in try? stack.http.get("/api/media/usage", headers: ["X-User-Id": "u-alice"]) }
        let limited = answers.compactMap { $0 }.filter { $0.status == 429 }
        XCTAssertGreaterThanOrEqual(limited.count, 6, "\(answers.map { $0?.status ?? 0 })")
        XCTAssertLessThanOrEqual(answers.filter { $0?.status == 200 }.count, 5)
        for response in limited {
            XCTAssertEqual(response.errorCode, "rate_limited")
            XCTAssertEqual(response.header("Content-Type"), "application/json")
            XCTAssertEqual(response.header("Retry-After"), "1")
        }
        // The loopback operations routes are not limited; after a second the API answers again.
        XCTAssertEqual(try stack.http.get("/api/media/_ping").status, 200)
        usleep(1_100_000)
        XCTAssertEqual(try stack.http.get("/api/media/usage", headers: ["X-User-Id": "u-alice"]).status, 200)
    }
}
