import FastCGI
import Foundation
import Media
@testable import MediaAPI
import ServerLog
import XCTest

/// The router and the identity step in front of it, without a pool or nginx.
final class RouterTests: XCTestCase {
    func request(_ method: String, _ path: String, headers: [String: String] = [:]) -> HTTPRequest {
        var params = ["REQUEST_METHOD": method, "DOCUMENT_URI": path, "REQUEST_URI": path]
        for (name, value) in headers { params["HTTP_" + name.uppercased().replacingOccurrences(of: "-", with: "_")] = value }
        return HTTPRequest(FastCGIRequest(params: params, body: RequestBody(bytes: [])))
    }

    /// A router whose handlers answer with a status that names them.
    func router() -> Router {
        var router = Router()
        router.add("GET", "/api/media/:id") { _ in HTTPResponse(status: 201) }
        router.add("PATCH", "/api/media/:id") { _ in HTTPResponse(status: 202) }
        router.add("GET", "/api/media/jobs") { _ in HTTPResponse(status: 203) }
        router.add("GET", "/api/media/jobs/:id") { request in HTTPResponse(status: 204, body: Array(request.parameter("id").utf8)) }
        router.add("GET", "/api/owners/:ownerType/media") { _ in HTTPResponse(status: 205) }
        router.add("GET", "/api/owners/:ownerType/:ownerId/media") { _ in HTTPResponse(status: 206) }
        router.add("GET", "/api/private", signedIn: { _, userId in HTTPResponse(status: 207, body: Array(userId.utf8)) })
        return router
    }

    func answer(_ method: String, _ path: String, headers: [String: String] = [:]) -> HTTPResponse {
        Application(router: router(), identity: Identity(mode: .dev, jwtSecret: []))
            .handle(request(method, path, headers: headers))
    }

    func testStaticSegmentsWinOverParametersPositionByPosition() {
        XCTAssertEqual(answer("GET", "/api/media/jobs").status, 203)
        XCTAssertEqual(answer("GET", "/api/media/abc").status, 201)
        XCTAssertEqual(answer("GET", "/api/owners/scene/media").status, 205)
        XCTAssertEqual(answer("GET", "/api/owners/scene/s1/media").status, 206)
        XCTAssertEqual(answer("GET", "/api/media/jobs/j1").body.bytes, Array("j1".utf8))
    }

    func testAnEncodedSlashStaysInsideItsSegment() {
        let response = answer("GET", "/api/media/jobs/a%2Fb")
        XCTAssertEqual(response.status, 204)
        XCTAssertEqual(response.body.bytes, Array("a/b".utf8))
        XCTAssertEqual(answer("GET", "/api/media/jobs/%ff").status, 400)
    }

    func testOtherMethodsAre405WithAllowAndHeadIsGet() {
        let refused = answer("POST", "/api/media/abc")
        XCTAssertEqual(refused.status, 405)
        XCTAssertTrue(refused.headers.contains { $0.0 == "Allow" && $0.1 == "GET, PATCH" }, "\(refused.headers)")
        XCTAssertEqual(answer("HEAD", "/api/media/abc").status, 201)
        XCTAssertEqual(answer("GET", "/api/nothing/here").status, 404)
        XCTAssertEqual(answer("GET", "/").status, 404)
    }

    func testSignedInRoutesResolveTheIdentityBeforeTheHandler() {
        XCTAssertEqual(answer("GET", "/api/private").status, 401)
        XCTAssertEqual(answer("GET", "/api/private", headers: ["X-User-Id": "../etc"]).status, 401)
        let signedIn = answer("GET", "/api/private", headers: ["X-User-Id": "u-alice"])
        XCTAssertEqual(signedIn.status, 207)
        XCTAssertEqual(signedIn.body.bytes, Array("u-alice".utf8))
    }

    /// The service's own percent-decoding answers what Foundation's does (the fuzz target
    /// checks the same on generated input), and reads `+` as a space only in a query.
    /// Splitting at an ASCII byte means what `split(separator:)` does, at every option.
    func testASCIISplitAgreesWithSplittingByCharacter() {
        let texts = ["", "&", "&&", "a", "a&b", "&a&&b&", "k=v=w&x=&=y&z", "ids=a,b,,c,", "é&ü=日本&🎬", "/api//media/"]
        for text in texts {
            for separator: Character in ["&", "=", ",", "/"] {
                for maxSplits in [0, 1, 2, Int.max] {
                    for omitting in [true, false] {
                        let expected = text.split(separator: separator, maxSplits: maxSplits, omittingEmptySubsequences: omitting)
                        let split = text.split(ascii: separator.unicodeScalars.first!, maxSplits: maxSplits,
                                               omittingEmptySubsequences: omitting)
                        XCTAssertEqual(split, expected, "\(text) at \(separator), \(maxSplits), \(omitting)")
                        XCTAssertEqual(text.dropFirst().split(ascii: separator.unicodeScalars.first!, maxSplits: maxSplits,
                                                              omittingEmptySubsequences: omitting),
                                       text.dropFirst().split(separator: separator, maxSplits: maxSplits,
                                                              omittingEmptySubsequences: omitting))
                    }
                }
            }
        }
    }

    func testPercentDecodingAgreesWithFoundation() {
        let cases = ["", "plain", "a%20b", "%E2%82%AC", "%e2%82%ac", "%", "%4", "%zz", "%4G", "%FF", "%C3", "%C3%A9",
                     "%00", "100%", "a+b", "%2F..%2f", "é", "🎬%F0%9F%8E%AC", "%%41", "%41%"]
        for text in cases {
            XCTAssertEqual(PercentDecoding.decode(Substring(text)), text.removingPercentEncoding, text)
        }
        XCTAssertEqual(PercentDecoding.decode("a+b%2B", plusIsSpace: true), "a b+")
        XCTAssertEqual(HTTPRequest.parseQuery("q=a+b%2Bc&bad=%zz&q=%C3%A9"), ["q": ["a b+c", "é"], "bad": ["%zz"]])
    }
}

final class JSONWriterTests: XCTestCase {
    struct Sample: JSONWritable {
        func write(to json: inout JSONWriter) {
            json.object { json in
                json.key("text"); json.string("quote \" backslash \\ newline \n tab \t nul \u{0} é 🎬 </script>")
                json.key("none"); json.string(nil)
                json.key("numbers"); json.array([0, -1, Int64.max, Int64.min, 1_000_000]) { json, number in json.number(number) }
                json.key("real"); json.number(1.5)
                json.key("flag"); json.bool(false)
                json.key("date"); json.date(Date(timeIntervalSince1970: 1_764_000_000.123))
                json.key("raw"); json.json(#"{"a":[1,2]}"#)
                json.key("nested"); json.value([Inner(), Inner()])
                json.key("empty"); json.array([Int]()) { json, number in json.number(number) }
            }
        }
    }

    struct Inner: JSONWritable {
        func write(to json: inout JSONWriter) { json.object { json in json.key("k"); json.number(1) } }
    }

    /// Strings with something to escape at every offset around the scan's 8-byte words, and
    /// multi-byte UTF-8 (bytes >= 0x80, never escaped), read back equal; dates of every year
    /// width; a memoized value repeated byte for byte.
    func testEscapesAtEveryOffsetDatesAndRepeatedValues() throws {
        struct Document: JSONWritable {
            let texts: [String]
            let dates: [Date]
            func write(to json: inout JSONWriter) {
                json.object { json in
                    json.key("texts"); json.array(texts) { json, text in json.string(text) }
                    json.key("dates"); json.array(dates) { json, date in json.date(date) }
                    json.key("same")
                    json.array(0..<3) { json, _ in json.value(Inner(), memoizedAs: "inner") }
                }
            }
        }
        var texts: [String] = []
        // Every length up to 20, so each count of bytes after the last whole word comes up.
        for special in ["\"", "\\", "\n", "\u{1}", "\u{1f}", "é", "🎬", " ", "~", "\u{7f}"] {
            for length in 1...20 {
                for offset in 0..<length {
                    texts.append(String(repeating: "a", count: offset) + special + String(repeating: "b", count: length - 1 - offset))
                }
            }
        }
        texts += (0...20).map { String(repeating: "c", count: $0) }
        let dates = [-62_135_596_800.0, -1.0, 0.001, 253_402_300_799.999, 253_402_300_800.0].map(Date.init(timeIntervalSince1970:))
        var writer = JSONWriter()
        Document(texts: texts, dates: dates).write(to: &writer)
        let bytes = writer.body().bytes
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        XCTAssertEqual(object["texts"] as? [String], texts)
        XCTAssertEqual(object["dates"] as? [String], ["0001-01-01T00:00:00.000Z", "1969-12-31T23:59:59.000Z",
                                                     "1970-01-01T00:00:00.001Z", "9999-12-31T23:59:59.999Z",
                                                     "10000-01-01T00:00:00.000Z"])
        XCTAssertEqual((object["same"] as? [[String: Int]]) ?? [], [["k": 1], ["k": 1], ["k": 1]])
        XCTAssertTrue(String(decoding: bytes, as: UTF8.self).contains(#"[{"k":1},{"k":1},{"k":1}]"#))
    }

    /// Integers at every digit count and its boundaries, signed, and zero-padded, as
    /// Swift's own description spells them.
    func testIntegersAtEveryDigitCountMatchTheirDescription() {
        var values: [Int64] = [0, Int64.max, Int64.min, Int64.min + 1]
        var power: Int64 = 1  // 10^0 ... 10^18
        while true {
            values += [power - 1, power, power + 1, -power, -(power - 1)]
            guard power <= Int64.max / 10 else { break }
            power *= 10
        }
        var buffer = [UInt8](repeating: 0, count: JSONBytes.maximumIntegerLength(minimumDigits: 25))
        for value in values {
            for minimumDigits in [1, 4, 7, 25] {
                let count = buffer.withUnsafeMutableBufferPointer {
                    JSONBytes.writeInteger(value, minimumDigits: minimumDigits, to: $0.baseAddress!)
                }
                let digits = String(value.magnitude)
                let expected = (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, minimumDigits - digits.count)) + digits
                XCTAssertEqual(String(decoding: buffer[..<count], as: UTF8.self), expected, "\(value), \(minimumDigits)")
            }
        }
    }

    func testWritesValidJSONThatFoundationReadsBack() throws {
        var writer = JSONWriter()
        Sample().write(to: &writer)
        let bytes = writer.body().bytes
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        XCTAssertEqual(object["text"] as? String, "quote \" backslash \\ newline \n tab \t nul \u{0} é 🎬 </script>")
        XCTAssertTrue(object["none"] is NSNull)
        XCTAssertEqual(object["numbers"] as? [Int64], [0, -1, Int64.max, Int64.min, 1_000_000])
        XCTAssertEqual(object["real"] as? Double, 1.5)
        XCTAssertEqual(object["flag"] as? Bool, false)
        XCTAssertEqual(object["date"] as? String, "2025-11-24T16:00:00.123Z")
        XCTAssertEqual((object["raw"] as? [String: Any])?["a"] as? [Int], [1, 2])
        XCTAssertEqual((object["nested"] as? [[String: Int]])?.count, 2)
        XCTAssertEqual((object["empty"] as? [Int])?.count, 0)
        // No raw control characters: every one is escaped.
        XCTAssertFalse(bytes.contains { $0 < 0x20 })
    }
}

final class JSONBytesTests: XCTestCase {
    /// The calendar arithmetic agrees with gmtime_r wherever DATETIME(3) dates can fall.
    func testTimestampsMatchTheCLibraryAcrossTheDateTimeRange() {
        var generator = SystemRandomNumberGenerator()
        var dates = [0, -1, 1, 951_782_400_000, 951_868_799_999, -2_208_988_800_000, 253_402_300_799_999,
                     -30_610_224_000_000].map { Date(timeIntervalSince1970: Double($0) / 1000) }
        for _ in 0..<20_000 {
            let milliseconds = Int64.random(in: -30_610_224_000_000...253_402_300_799_999, using: &generator)
            dates.append(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        }
        for date in dates {
            var bytes: [UInt8] = []
            JSONBytes.appendTimestamp(date, to: &bytes)
            XCTAssertEqual(String(decoding: bytes, as: UTF8.self), reference(date), "\(date.timeIntervalSince1970)")
        }
    }

    func testBase64URLMatchesFoundationAndRoundTrips() {
        for length in 0..<64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255) }
            let expected = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            XCTAssertEqual(Base64URL.encode(bytes), expected)
            XCTAssertEqual(Base64URL.decode(Base64URL.encode(bytes)), bytes)
        }
    }

    private func reference(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
        let remainder = milliseconds - Int64(seconds) * 1000
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1,
                      parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(remainder))
    }
}
