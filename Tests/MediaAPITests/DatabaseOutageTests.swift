import Foundation
import TestSupport
import XCTest

/// The test MariaDB stopped and started again under a running pool: requests that need
/// it answer 503 quickly, `_status` says so, and the same workers recover on their own.
final class DatabaseOutageTests: XCTestCase {
    /// scripts/stack on the database scripts/test started (its MEDIA_RUN_DIR and port).
    func testDatabase(_ command: String) throws {
        let result = try runProcess("/bin/bash", [TestEnvironment.repository.path + "/scripts/stack", command])
        XCTAssertEqual(result.status, 0, result.text)
    }

    func testOutageAnswers503ThenServiceResumesWithoutRestart() throws {
        guard ProcessInfo.processInfo.environment["MEDIA_RUN_DIR"] != nil else {
            throw XCTSkip("needs the database scripts/test starts (MEDIA_RUN_DIR)")
        }
        let stack = try LocalStack("outage")
        defer { stack.stop() }
        addTeardownBlock { [self] in try? testDatabase("db-up") }
        let library = { try stack.http.get("/api/media?limit=1", headers: ["X-User-Id": "u-outage"]) }
        XCTAssertEqual(try library().status, 200)
        let workers = try stack.workerPIDs()

        try testDatabase("db-down")
        for _ in 0..<6 {
            let started = Date()
            let response = try library()
            XCTAssertEqual(response.status, 503, response.text)
            XCTAssertEqual(response.errorCode, "database_unavailable")
            XCTAssertLessThan(Date().timeIntervalSince(started), 6, "answered within the connect timeout, not hung")
        }
        let database = try stack.status()["checks"] as? [String: Any]
        XCTAssertTrue((database?["database"] as? String ?? "").hasPrefix("down"), "\(String(describing: database))")

        try testDatabase("db-up")
        XCTAssertTrue(stack.waitUntil(seconds: 10) { (try? library().status) == 200 }, "service resumed")
        for _ in 0..<10 { XCTAssertEqual(try library().status, 200) }
        XCTAssertEqual((try stack.status()["checks"] as? [String: Any])?["database"] as? String, "up")
        XCTAssertEqual(try stack.workerPIDs(), workers, "no worker was restarted")
    }
}
