import Foundation
import MariaDB
import TestSupport
import XCTest

/// `media-server check-schema` against scratch databases migrated by scripts/migrate,
/// then damaged the way a hand-edited or half-migrated database would be.
final class SchemaCheckTests: XCTestCase {
    func migratedScratchDatabase() throws -> (url: String, database: Database) {
        let scratch = try ScratchDatabase.migrated()
        addTeardownBlock(scratch.drop)
        return (scratch.url, scratch.database)
    }

    func checkSchema(_ url: String) throws -> ProcessOutput {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MEDIA_") }
        environment["DATABASE_URL"] = url
        return try runProcess(TestEnvironment.binary, ["check-schema"], environment: environment)
    }

    func testFreshlyMigratedDatabasePasses() throws {
        let scratch = try migratedScratchDatabase()
        let result = try checkSchema(scratch.url)
        XCTAssertEqual(result.status, 0, result.text)
    }

    func testDroppedColumnAndMissingIndexAreEachReported() throws {
        let scratch = try migratedScratchDatabase()
        try scratch.database.executeText("ALTER TABLE `MediaAsset` DROP COLUMN `checksum`")
        try scratch.database.executeText("ALTER TABLE `MediaGenerationJob` DROP INDEX `MediaGenerationJob_status_updatedAt_idx`")
        try scratch.database.executeText("""
            ALTER TABLE `MediaAsset` MODIFY `status` ENUM('pending', 'processing', 'ready') NOT NULL DEFAULT 'pending'
            """)
        let result = try checkSchema(scratch.url)
        XCTAssertEqual(result.status, 1, result.text)
        let lines = result.text.split(separator: "\n").map(String.init)
        func reported(_ words: String...) -> Bool {
            lines.contains { line in words.allSatisfy { line.contains($0) } }
        }
        XCTAssertTrue(reported("MediaAsset", "checksum"), result.text)
        XCTAssertTrue(reported("MediaGenerationJob_status_updatedAt_idx"), result.text)
        XCTAssertTrue(reported("MediaAsset", "status", "failed"), result.text)
    }

    func testMissingTableIsReportedAndThePoolRefusesToStart() throws {
        let scratch = try migratedScratchDatabase()
        try scratch.database.executeText("DROP TABLE `MediaGenerationJob`")
        let result = try checkSchema(scratch.url)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.text.contains("MediaGenerationJob"), result.text)

        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MEDIA_") }
        environment["DATABASE_URL"] = scratch.url
        environment["MEDIA_SOCKET"] = "/tmp/mt-schema-\(UInt32.random(in: 0...UInt32.max)).sock"
        let serve = try runProcess(TestEnvironment.binary, ["serve"], environment: environment)
        XCTAssertEqual(serve.status, 1, serve.text)
        XCTAssertTrue(serve.text.contains("MediaGenerationJob"), serve.text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: environment["MEDIA_SOCKET"]!))
    }
}
