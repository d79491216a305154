import Foundation
import Hashing
import Media
import TestSupport
import XCTest

/// MEDIA_AUTH=jwt and MEDIA_AUTH=nginx: where the user id may come from, and where not.
final class IdentityTests: XCTestCase {
    let secret = "test-secret-that-is-at-least-32-bytes-long"

    func token(header: [String: Any] = ["alg": "HS256", "typ": "JWT"], claims: [String: Any],
               key: String? = nil) throws -> String {
        let head = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: header)))
        let body = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: claims)))
        let signature = HMACSHA256.authenticationCode(key: Array((key ?? secret).utf8), message: Array("\(head).\(body)".utf8))
        return "\(head).\(body).\(Base64URL.encode(signature))"
    }

    func testJWTModeAcceptsOnlyValidHS256Tokens() throws {
        let stack = try LocalStack("jwt", settings: ["MEDIA_AUTH": "jwt", "MEDIA_JWT_SECRET": secret])
        defer { stack.stop() }
        let now = Date().timeIntervalSince1970
        func status(_ authorization: String?, headers extra: [String: String] = [:]) throws -> Int {
            var headers = extra
            if let authorization { headers["Authorization"] = authorization }
            return try stack.http.get("/api/media?limit=1", headers: headers).status
        }
        let valid = try token(claims: ["sub": "u-jwt", "exp": now + 600, "nbf": now - 10])
        XCTAssertEqual(try status("Bearer \(valid)"), 200)

        let unsigned = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "."
            + Base64URL.encode(Array(#"{"sub":"u-jwt","exp":9999999999}"#.utf8)) + "."
        let refused: [(String, String?)] = [
            ("expired", "Bearer " + (try token(claims: ["sub": "u-jwt", "exp": now - 1]))),
            ("not yet valid", "Bearer " + (try token(claims: ["sub": "u-jwt", "exp": now + 600, "nbf": now + 300]))),
            ("wrong signature", "Bearer " + (try token(claims: ["sub": "u-jwt", "exp": now + 600],
                                                       key: "another-secret-that-is-32-bytes-long!!"))),
            ("alg none", "Bearer " + unsigned),
            ("wrong algorithm", "Bearer " + (try token(header: ["alg": "HS512"], claims: ["sub": "u-jwt", "exp": now + 600]))),
            ("missing sub", "Bearer " + (try token(claims: ["exp": now + 600]))),
            ("no exp", "Bearer " + (try token(claims: ["sub": "u-jwt"]))),
            ("unsafe sub", "Bearer " + (try token(claims: ["sub": "../x", "exp": now + 600]))),
            ("garbage", "Bearer abc.def"),
            ("no header", nil),
        ]
        for (name, authorization) in refused {
            XCTAssertEqual(try status(authorization), 401, name)
        }
        XCTAssertEqual(try status(nil, headers: ["X-User-Id": "u-jwt"]), 401, "the dev header means nothing here")
    }

    func testNginxModeTakesTheUserOnlyFromTheFastCGIParam() throws {
        let stack = try LocalStack("nginxauth", settings: ["MEDIA_AUTH": "nginx"])
        defer { stack.stop() }
        // Through the local nginx, which sets no MEDIA_USER_ID: a client header is not an identity.
        XCTAssertEqual(try stack.http.get("/api/media", headers: ["X-User-Id": "u-alice"]).status, 401)
        // As nginx's auth_request wiring would pass it.
        let params = ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/media?limit=1", "QUERY_STRING": "limit=1"]
        XCTAssertEqual(try stack.fastCGI.request(params: params.merging(["MEDIA_USER_ID": "u-alice"]) { $1 }, stdin: []).status, 200)
        XCTAssertEqual(try stack.fastCGI.request(params: params.merging(["HTTP_X_USER_ID": "u-alice"]) { $1 }, stdin: []).status, 401)
    }

    func testJWTModeWithoutASecretIsRefusedAtStart() throws {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MEDIA_") }
        environment["DATABASE_URL"] = TestEnvironment.databaseURL
        environment["MEDIA_AUTH"] = "jwt"
        environment["MEDIA_JWT_SECRET"] = "short"
        let result = try runProcess(TestEnvironment.binary, ["serve"], environment: environment)
        XCTAssertEqual(result.status, 78)
        XCTAssertTrue(result.text.contains("MEDIA_JWT_SECRET"), result.text)
    }
}
