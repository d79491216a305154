import Foundation
import TestSupport
import XCTest

/// How nginx serves stored files, in each delivery mode it serves (public and signed), on
/// the app's origin and on the files' own origin (MEDIA_BASE_URL on another port): polyglot
/// originals come back byte for byte as sandboxed downloads, and every path under /uploads/
/// that is not a stored file answers the same 404.
final class StoredFilesTests: XCTestCase {
    /// A GIF that is also JavaScript: its width is `/*`, a comment extension closes the
    /// comment and runs a statement, and `*/` after the trailer closes the last one.
    func gifThatIsJavaScript() -> [UInt8] {
        let script = Array("*/=1;alert(document.domain);/*".utf8)
        return Array("GIF89a".utf8) + [0x2F, 0x2A, 0x0A, 0x00]  // width 0x2A2F, height 10
            + [0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF]  // a two-colour table
            + [0x21, 0xFE, UInt8(script.count)] + script + [0x00]
            + [0x2C, 0, 0, 0, 0, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00]  // one pixel
            + [0x3B] + Array("*/".utf8)
    }

    func polyglots() throws -> [(String, String, [UInt8])] {
        let html = Array("<html><body><script>alert(document.cookie)</script></body></html>".utf8)
        let zip = try Fixtures.bytes(Fixtures.file("hello.zip") { path in
            try Fixtures.run("/usr/bin/python3", ["-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z: z.writestr('hello.txt', 'hi')", path])
        })
        return [
            ("a GIF that is also JavaScript", "script.gif", gifThatIsJavaScript()),
            ("a JPEG with HTML after its end marker", "page.jpg",
             try Fixtures.bytes(Fixtures.jpeg(width: 64, height: 48)) + html),
            ("a GIF with a ZIP appended", "archive.gif",
             try Fixtures.bytes(Fixtures.convert("red-16.gif", ["-size", "16x16", "xc:red"])) + zip),
        ]
    }

    func testPolyglotOriginalsAreServedIntactAsSandboxedDownloadsInEveryMode() throws {
        for delivery in ["public", "signed"] {
            let stack = try LocalStack("poly-\(delivery)", settings: ["MEDIA_DELIVERY": delivery, "MEDIA_ORIGIN": "local"],
                                       filesOrigin: true)
            defer { stack.stop() }
            for (what, name, bytes) in try polyglots() {
                let response = try stack.upload(bytes, filename: name, as: "u-alice")
                XCTAssertEqual(response.status, 201, "\(delivery), \(what): \(response.text)")
                let variants = response.json()["variants"] as? [[String: Any]] ?? []
                let original = try XCTUnwrap(variants.first { $0["kind"] as? String == "original" }?["url"] as? String)
                XCTAssertTrue(original.hasPrefix("http://127.0.0.1:\(stack.filesPort)/uploads/"),
                              "the files' own origin: \(original)")
                // The same file from the files' origin and, by its path, from the app's.
                let path = String(original.dropFirst("http://127.0.0.1:\(stack.filesPort)".count))
                for url in [original, "http://127.0.0.1:\(stack.httpPort)" + path] {
                    let served = try stack.fetch(url)
                    XCTAssertEqual(served.status, 200, "\(delivery), \(what): \(url)")
                    XCTAssertEqual(served.body, bytes, "\(delivery), \(what): byte for byte")
                    XCTAssertEqual(served.header("Content-Disposition"), "attachment", "\(delivery), \(what)")
                    XCTAssertEqual(served.header("X-Content-Type-Options"), "nosniff", "\(delivery), \(what)")
                    XCTAssertEqual(served.header("Content-Security-Policy"), "default-src 'none'; sandbox")
                    XCTAssertNil(served.header("Set-Cookie"))
                }
                // Variants are re-encoded: nothing of the polyglot survives in them.
                let thumbnail = try XCTUnwrap(variants.first { $0["kind"] as? String == "thumbnail" }?["url"] as? String)
                let shown = try stack.fetch(thumbnail)
                XCTAssertEqual(shown.header("Content-Type"), "image/webp")
                XCTAssertFalse(String(decoding: shown.body, as: UTF8.self).contains("alert("), "\(delivery), \(what)")
            }
            if delivery == "signed" {
                XCTAssertEqual(try stack.fetch("http://127.0.0.1:\(stack.filesPort)/uploads/u-alice").status, 403,
                               "unsigned: refused before anything is looked up")
            }
        }
    }

    func testEveryPathUnderUploadsThatIsNoStoredFileAnswersTheSame404() throws {
        let stack = try LocalStack("uploads404", settings: ["MEDIA_DELIVERY": "public", "MEDIA_ORIGIN": "local"])
        defer { stack.stop() }
        let response = try stack.upload(try Fixtures.bytes(Fixtures.jpeg(width: 64, height: 48)), filename: "a.jpg",
                                        as: "u-alice")
        XCTAssertEqual(response.status, 201, response.text)
        let id = try XCTUnwrap(response.json()["id"] as? String)
        let existing = ["/uploads/u-alice", "/uploads/u-alice/", "/uploads/u-alice/\(id)", "/uploads/u-alice/\(id)/",
                        "/uploads/u-alice/\(id)/original", "/uploads/u-alice/\(id)/thumbnail/", "/uploads/.tmp",
                        "/uploads/.tmp/", "/uploads/u-alice/\(id)/original/.hidden"]
        let missing = ["/uploads/u-nobody", "/uploads/u-nobody/", "/uploads/u-alice/c000000000000000000000000",
                       "/uploads/u-alice/\(id)/original/missing.jpg", "/uploads/u-alice/\(id)/thumbnail/missing.webp"]
        func comparable(_ answer: HTTPResponseMessage) -> String {
            let headers = answer.headers.filter { $0.key != "date" }.sorted { $0.key < $1.key }
            return "\(answer.status) \(headers) \(answer.text)"
        }
        let reference = comparable(try stack.http.get(missing[0]))
        XCTAssertTrue(reference.hasPrefix("404 "), reference)
        XCTAssertFalse(reference.lowercased().contains("cache-control"), "a 404 is never cached for a year")
        for path in existing + missing {
            for port in [stack.httpPort, stack.filesPort] {
                XCTAssertEqual(comparable(try HTTPClient(port: port).get(path)), reference, "\(path) on port \(port)")
            }
        }
    }
}
