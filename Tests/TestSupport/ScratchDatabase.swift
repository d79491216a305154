import Foundation
import MariaDB

/// A fresh database `media_scratch_…` beside the test database, with the migrations
/// applied (host fixture tables included, without its rows). `drop` removes it.
public enum ScratchDatabase {
    public static func migrated() throws -> (url: String, database: Database, drop: @Sendable () -> Void) {
        guard let base = TestEnvironment.databaseURL else { throw TestFailure("run the tests with ./scripts/test") }
        let name = "media_scratch_\(UInt32.random(in: 0...UInt32.max))"
        let admin = Database(configuration: try ConnectionConfiguration(url: base))
        try admin.executeText("CREATE DATABASE `\(name)` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        let drop: @Sendable () -> Void = {
            _ = try? Database(configuration: ConnectionConfiguration(url: base)).executeText("DROP DATABASE IF EXISTS `\(name)`")
        }
        let url = base.replacingOccurrences(of: #"/media(\?|$)"#, with: "/\(name)$1", options: .regularExpression)
        guard url != base else { throw TestFailure("cannot derive a scratch database URL from \(base)") }
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = url
        let repository = TestEnvironment.repository.path
        let migrated = try runProcess("/bin/bash", [
            repository + "/scripts/migrate", "--dir", repository + "/prisma-compat/host-fixture/migrations",
            "--dir", repository + "/prisma-compat/migrations",
        ], environment: environment)
        guard migrated.status == 0 else {
            drop()
            throw TestFailure("scripts/migrate failed: \(migrated.text)")
        }
        return (url, Database(configuration: try ConnectionConfiguration(url: url)), drop)
    }
}
