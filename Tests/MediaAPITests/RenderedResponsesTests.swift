import Foundation
import Media
import MariaDB
@testable import MediaAPI
import TestSupport
import XCTest

/// The kept renderings: bounded in bytes, least recently used dropped first, and used
/// through nginx only for exactly the rows they were made from.
final class RenderedResponsesTests: XCTestCase {
    func key(_ name: String, scope: String = "u-1") -> ContentKey {
        let digest = ReadDigest(context: name, scope: scope)
        return digest.key
    }

    func body(_ size: Int) -> ResponseBody { ResponseBody([UInt8](repeating: 0x7b, count: size)) }

    func testKeepsAtMostItsCapacityDroppingTheLeastRecentlyUsed() {
        let kept = RenderedResponses(capacityBytes: 4000)
        let (a, b, c, d) = (key("a"), key("b"), key("c"), key("d"))
        kept.keep(body(900), for: a)
        kept.keep(body(900), for: b)
        kept.keep(body(900), for: c)
        XCTAssertEqual(kept.count, 3)
        XCTAssertGreaterThanOrEqual(kept.keptBytes, 2700)
        XCTAssertNotNil(kept.body(for: a), "a is now the most recently used")
        kept.keep(body(900), for: d)
        kept.keep(body(900), for: key("e"))
        XCTAssertFalse(kept.contains(b), "b was the least recently used")
        XCTAssertTrue(kept.contains(a) && kept.contains(c) && kept.contains(d))
        XCTAssertLessThanOrEqual(kept.keptBytes, kept.capacityBytes)
        XCTAssertEqual(kept.count, 4)

        kept.keep(body(1100), for: key("too large"))
        XCTAssertFalse(kept.contains(key("too large")), "a body above a quarter of the capacity is not kept")
        kept.keep(body(500), for: a)
        XCTAssertEqual(kept.body(for: a)?.count, 500, "keeping a key again replaces its body")
        XCTAssertLessThanOrEqual(kept.keptBytes, kept.capacityBytes)
        XCTAssertFalse(kept.contains(key("a", scope: "u-2")), "the same fingerprint context of another user is another key")

        let none = RenderedResponses(capacityBytes: 0)
        none.keep(body(1), for: a)
        XCTAssertEqual(none.count, 0)
        XCTAssertFalse(none.contains(a))
    }
}
