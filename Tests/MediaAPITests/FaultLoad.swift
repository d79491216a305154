#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Hashing
import MariaDB
import TestSupport
import XCTest

/// A steady load on a stack while a fault is injected: `clients` threads, each uploading a
/// small JPEG then reading the user's library, until `stop()`. Every upload's answer is kept,
/// so that `verify` can hold the stack to what it said.
final class FaultLoad: @unchecked Sendable {
    struct Upload {
        let status: Int
        let code: String?
        let id: String?
        let sha256: String
    }

    let stack: LocalStack
    let user = "u-fault-\(UInt32.random(in: 0...UInt32.max))"
    private let lock = NSLock()
    private var running = true
    private var uploads: [Upload] = []
    /// Library reads that answered something other than 200 (by status).
    private var readFailures: [Int] = []
    var failedReads: [Int] { lock.withLock { readFailures } }
    private let finished = DispatchGroup()

    init(_ stack: LocalStack, clients: Int = 4) throws {
        self.stack = stack
        // Distinct images (a few sizes) so that each upload is its own file.
        let images = try (0..<4).map { try Fixtures.bytes(Fixtures.jpeg(width: 160 + 32 * $0, height: 120)) }
        for client in 0..<clients {
            finished.enter()
            let thread = Thread { [self] in
                var round = 0
                while lock.withLock({ running }) {
                    upload(images[(client + round) % images.count])
                    read()
                    round += 1
                }
                finished.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Waits until `count` uploads have answered (whatever they answered), at most `seconds`.
    func waitForUploads(_ count: Int, seconds: Double = 30) -> Bool {
        stack.waitUntil(seconds: seconds) { lock.withLock { uploads.count } >= count }
    }

    /// Stops the clients once their requests in flight have answered.
    func stop() {
        lock.withLock { running = false }
        _ = finished.wait(timeout: .now() + 60)
    }

    /// Uploads answered so far.
    var answered: Int { lock.withLock { uploads.count } }
    var succeeded: [Upload] { lock.withLock { uploads.filter { (200..<300).contains($0.status) } } }
    var failed: [Upload] { lock.withLock { uploads.filter { !(200..<300).contains($0.status) } } }

    private func upload(_ bytes: [UInt8]) {
        var record = Upload(status: 0, code: "no answer", id: nil, sha256: SHA256.hex(bytes))
        if let response = try? stack.upload(bytes, filename: "load.jpg", as: user) {
            record = Upload(status: response.status, code: response.errorCode, id: response.json()["id"] as? String,
                            sha256: record.sha256)
        }
        lock.withLock { uploads.append(record) }
    }

    private func read() {
        let status = (try? stack.http.get("/api/media?limit=5", headers: ["X-User-Id": user]).status) ?? 0
        if status != 200 { lock.withLock { readFailures.append(status) } }
    }

    /// What must hold once the load is over: every 2xx upload is `ready` with its files (or
    /// objects) served byte for byte; after `media-server gc`, failed uploads left no row and
    /// no stored object; no asset is `pending`/`processing`; no staged file remains.
    ///
    /// `lostAnswers`: a worker killed after its ingest committed and before nginx had the
    /// answer leaves a whole asset behind a 502 (a CI run hit that window once in ten kills).
    /// Up to that many such assets are allowed, each `ready`, holding the bytes of an upload
    /// whose answer was a 5xx or none, and served like a 2xx one.
    func verify(lostAnswers: Int = 0, file: StaticString = #filePath, line: UInt = #line) throws {
        let database = Database(configuration: try ConnectionConfiguration(url: XCTUnwrap(TestEnvironment.databaseURL)))
        // gc with no grace period: any row an interrupted ingest left is past its lease now.
        let collected = try runProcess(TestEnvironment.binary, ["gc", "--older-than", "0s"],
                                       environment: stack.serverEnvironment())
        XCTAssertEqual(collected.status, 0, collected.text, file: file, line: line)
        let rows = try database.query("SELECT `id`, `status`, `checksum` FROM `MediaAsset` WHERE `userId` = ?", [user])
            .map { (id: try $0.get("id", as: String.self), status: try $0.get("status", as: String.self),
                    checksum: try $0.get("checksum", as: String?.self)) }
        var kept = succeeded
        let unanswered = Set(failed.filter { $0.status == 0 || $0.status >= 500 }.map(\.sha256))
        for row in rows where !kept.contains(where: { $0.id == row.id }) {
            guard row.status == "ready", let checksum = row.checksum, unanswered.contains(checksum) else { continue }
            kept.append(Upload(status: 201, code: nil, id: row.id, sha256: checksum))
        }
        XCTAssertLessThanOrEqual(kept.count - succeeded.count, lostAnswers, "assets whose answer was lost",
                                 file: file, line: line)
        for upload in kept {
            let id = try XCTUnwrap(upload.id, "a 2xx upload names its asset", file: file, line: line)
            let asset = try stack.http.get("/api/media/\(id)", headers: ["X-User-Id": user])
            XCTAssertEqual(asset.status, 200, "\(id): \(asset.text)", file: file, line: line)
            for variant in asset.json()["variants"] as? [[String: Any]] ?? [] {
                let url = try XCTUnwrap(variant["url"] as? String)
                let served = try stack.fetch(url)
                XCTAssertEqual(served.status, 200, url, file: file, line: line)
                XCTAssertEqual(served.body.count, variant["sizeBytes"] as? Int, url, file: file, line: line)
                if variant["kind"] as? String == "original" {
                    XCTAssertEqual(SHA256.hex(served.body), upload.sha256, url, file: file, line: line)
                }
            }
        }
        let live = Set(kept.compactMap(\.id))
        XCTAssertEqual(Set(rows.map(\.id)), live, "rows are exactly the 2xx uploads; gc said:\n\(collected.text)",
                       file: file, line: line)
        XCTAssertEqual(rows.filter { $0.status != "ready" }.map(\.id), [], "nothing left pending/processing",
                       file: file, line: line)
        let stored = Set(try stack.storedObjects(under: user + "/").map { $0.split(separator: "/")[1] }.map(String.init))
        XCTAssertEqual(stored, live, "stored objects are exactly the 2xx uploads'", file: file, line: line)
        XCTAssertEqual(stack.temporaryFiles(), [], "no staged file remains", file: file, line: line)
    }
}
