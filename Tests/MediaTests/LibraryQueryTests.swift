import Foundation
import MariaDB
@testable import Media
import TestSupport
import XCTest

/// The library query against the live test MariaDB.
final class LibraryQueryTests: XCTestCase {
    var database: Database!
    var assets: AssetRepository!
    let userId = "u-lib-\(UInt32.random(in: 0...UInt32.max))"

    override func setUpWithError() throws {
        let url = try XCTUnwrap(TestEnvironment.databaseURL, "run the tests with ./scripts/test")
        database = Database(configuration: try ConnectionConfiguration(url: url))
        assets = AssetRepository(database: database)
        let database = database!, userId = userId
        addTeardownBlock { _ = try? database.execute("DELETE FROM `MediaAsset` WHERE `userId` = ?", [userId]) }
    }

    @discardableResult
    func insertAsset(createdAt: Date, title: String? = nil, type: MediaType = .image, tags: [String]? = nil,
                     status: MediaStatus = .ready, deleted: Bool = false, userId: String? = nil) throws -> MediaAsset {
        let id = MediaID.generate()
        let asset = MediaAsset(
            id: id, userId: userId ?? self.userId, type: type, mimeType: type == .image ? "image/webp" : "video/mp4",
            title: title, tags: tags, sizeBytes: 1000, storageKey: "\(self.userId)/\(id)/original/a.webp",
            storageProvider: "local", status: status, source: .upload, createdAt: createdAt, updatedAt: createdAt,
            deletedAt: deleted ? createdAt : nil)
        try assets.insert(asset)
        return asset
    }

    func testPagesReturnEveryRowExactlyOnceWhileRowsAreInserted() throws {
        // Many rows share a millisecond, so the id must break ties.
        let start = Date(timeIntervalSince1970: 1_760_000_000)
        var expected = Set<String>()
        for index in 0..<230 {
            let createdAt = start.addingTimeInterval(Double(index / 7))
            expected.insert(try insertAsset(createdAt: createdAt).id)
        }
        var seen: [String] = []
        var cursor: LibraryCursor?
        var pages = 0
        repeat {
            let page = try assets.library(LibraryQuery(userId: userId, limit: 17, after: cursor))
            seen += page.assets.map(\.id)
            // Newest first within and across pages.
            for (newer, older) in zip(page.assets, page.assets.dropFirst()) {
                XCTAssertTrue(newer.createdAt > older.createdAt
                              || (newer.createdAt == older.createdAt && newer.id > older.id))
            }
            // Between pages: new uploads (newer than everything) and a late row older than all.
            try insertAsset(createdAt: Date())
            try insertAsset(createdAt: start.addingTimeInterval(-1000 - Double(pages)))
            cursor = page.next.flatMap { LibraryCursor(token: $0.token) }
            pages += 1
        } while cursor != nil && pages < 100
        let original = seen.filter(expected.contains)
        XCTAssertEqual(original.count, expected.count, "every original row appears")
        XCTAssertEqual(Set(original), expected)
        XCTAssertEqual(Set(seen).count, seen.count, "no row appears twice")
        XCTAssertGreaterThanOrEqual(pages, 14)
    }

    func testFiltersAndScoping() throws {
        let now = Date(timeIntervalSince1970: 1_760_000_000)
        let poster = try insertAsset(createdAt: now, title: "Poster 50%_off!", tags: ["poster", "night"])
        try insertAsset(createdAt: now.addingTimeInterval(1), title: "Poster 50 percent", tags: ["poster"])
        let clip = try insertAsset(createdAt: now.addingTimeInterval(2), title: "Clip", type: .video, tags: ["night"])
        try insertAsset(createdAt: now.addingTimeInterval(3), title: "Gone", deleted: true)
        try insertAsset(createdAt: now.addingTimeInterval(4), title: "Processing", status: .processing)
        let other = "u-other-\(UInt32.random(in: 0...UInt32.max))"
        try insertAsset(createdAt: now.addingTimeInterval(5), title: "Poster 50%_off!", userId: other)
        addTeardownBlock { [database] in _ = try? database?.execute("DELETE FROM `MediaAsset` WHERE `userId` = ?", [other]) }

        func ids(_ query: LibraryQuery) throws -> [String] { try assets.library(query).assets.map(\.id) }
        XCTAssertEqual(try ids(LibraryQuery(userId: userId)).count, 3, "deleted and unfinished assets are not listed")
        XCTAssertEqual(try ids(LibraryQuery(userId: userId, titleContains: "50%_off!")), [poster.id], "wildcards are literal")
        XCTAssertEqual(try ids(LibraryQuery(userId: userId, titleContains: "%")), [poster.id])
        XCTAssertEqual(try ids(LibraryQuery(userId: userId, type: .video)), [clip.id])
        XCTAssertEqual(try ids(LibraryQuery(userId: userId, tag: "night")), [clip.id, poster.id])
        XCTAssertEqual(try ids(LibraryQuery(userId: userId, tag: "\"night\"")), [], "a tag is a value, not JSON")
        XCTAssertNil(try assets.find(id: poster.id, userId: other), "another user's asset is not found")
    }

    func testCursorTokensAreOpaqueAndValidated() {
        let cursor = LibraryCursor(createdAt: Date(timeIntervalSince1970: 1_760_000_000.123), id: MediaID.generate())
        XCTAssertEqual(LibraryCursor(token: cursor.token), cursor)
        XCTAssertNil(LibraryCursor(token: "not-a-cursor"))
        XCTAssertNil(LibraryCursor(token: Data("v1:12:../../etc".utf8).base64EncodedString()))
        XCTAssertNil(LibraryCursor(token: String(repeating: "A", count: 500)))
    }

    /// Rows after the first are read from the positions the first row's names gave
    /// (`DecodingPlan`): a select list in another order decodes every row right, the
    /// statement's usual one too, and an enum column holding a name the enum lacks fails
    /// naming the column instead of decoding as something else.
    func testRecordsDecodeByNameOnEveryRowOfAnySelectList() throws {
        let start = Date(timeIntervalSince1970: 1_760_000_000)
        let inserted = [
            try insertAsset(createdAt: start, title: "first", type: .image, tags: ["a"]),
            try insertAsset(createdAt: start.addingTimeInterval(1), title: nil, type: .video, status: .processing),
            try insertAsset(createdAt: start.addingTimeInterval(2), title: "third, a longer title than fifteen bytes",
                            tags: ["b", "c"]),
        ]
        let reversed = MediaAsset.Column.allCases.reversed().map { "`\($0.rawValue)`" }.joined(separator: ", ")
        for selection in [reversed, MediaAsset.selection, reversed] {
            let found = try MediaAsset.fetchAll(database, """
                SELECT \(selection) FROM `MediaAsset` WHERE `userId` = ? ORDER BY `createdAt`
                """, [userId])
            XCTAssertEqual(found, inserted, selection)
        }
        let unknownType = MediaAsset.selection.replacingOccurrences(of: "`type`", with: "'sound' AS `type`")
        XCTAssertThrowsError(try MediaAsset.fetchAll(database, """
            SELECT \(unknownType) FROM `MediaAsset` WHERE `userId` = ?
            """, [userId])) { error in
            XCTAssertTrue("\(error)".contains("`type`") && "\(error)".contains("MediaType"), "\(error)")
        }
    }
}
