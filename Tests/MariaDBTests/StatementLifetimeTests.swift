import Foundation
import MariaDB
import TestSupport
import XCTest

/// Prepared statements live on the server until closed: the cache must close what it evicts,
/// and a connection that goes away must take its statements with it.
final class StatementLifetimeTests: XCTestCase {
    func makeDatabase(cacheSize: Int) throws -> Database {
        let url = try XCTUnwrap(TestEnvironment.databaseURL, "run the tests with ./scripts/test")
        return Database(configuration: try ConnectionConfiguration(url: url), statementCacheSize: cacheSize)
    }

    /// Statements open on the whole server (every connection's).
    func serverStatements(_ database: Database) throws -> Int {
        let row = try XCTUnwrap(database.queryOne("SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'"))
        return try XCTUnwrap(Int(row.get("Value", as: String.self)))
    }

    func testTwentyThousandDistinctStatementsStayWithinTheCache() throws {
        let observer = try makeDatabase(cacheSize: 4)
        let database = try makeDatabase(cacheSize: 32)
        _ = try database.query("SELECT 1")
        let before = try serverStatements(observer)
        // Each IN list of a new length is a new statement, as the batch reads make them.
        for length in 1...20_000 {
            let placeholders = Array(repeating: "?", count: length % 400 + 1).joined(separator: ", ")
            _ = try database.query("SELECT \(length) AS n FROM DUAL WHERE 1 IN (\(placeholders))",
                                   Array(repeating: 1, count: length % 400 + 1))
        }
        XCTAssertLessThanOrEqual(database.cachedStatements, 32)
        let after = try serverStatements(observer)
        // The observer's own statements (at most its cache) may come and go meanwhile.
        XCTAssertLessThanOrEqual(after - before, 32 + 4, "before \(before), after \(after)")
    }

    func testTheLeastRecentlyUsedStatementIsTheOneEvicted() throws {
        let database = try makeDatabase(cacheSize: 2)
        _ = try database.query("SELECT 1 AS a")
        _ = try database.query("SELECT 2 AS b")
        _ = try database.query("SELECT 1 AS a")  // `a` is now the most recent
        _ = try database.query("SELECT 3 AS c")  // evicts `b`
        let executedBefore = database.statementsExecuted
        XCTAssertEqual(try database.queryOne("SELECT 1 AS a")?.get("a", as: Int.self), 1)
        XCTAssertEqual(try database.queryOne("SELECT 3 AS c")?.get("c", as: Int.self), 3)
        XCTAssertEqual(database.statementsExecuted - executedBefore, 2)
        XCTAssertEqual(database.cachedStatements, 2)
    }

    func testClosingTheConnectionClosesItsStatements() throws {
        let observer = try makeDatabase(cacheSize: 4)
        _ = try observer.query("SELECT 1")
        let before = try serverStatements(observer)
        var database: Database? = try makeDatabase(cacheSize: 64)
        for value in 1...50 { _ = try database?.query("SELECT \(value) AS n") }
        XCTAssertGreaterThanOrEqual(try serverStatements(observer) - before, 50)
        database = nil  // deinit closes the connection and every statement
        XCTAssertTrue(waitUntil { (try? self.serverStatements(observer)).map { $0 - before <= 4 } ?? false })
    }

    func testDatesOutsideTheColumnRangeAreRefusedNotTrapped() throws {
        let database = try makeDatabase(cacheSize: 8)
        for seconds in [9_223_372_036_854_775.807, -99_999_999_999.999, 1e300, -1e300, 253_402_300_800] {
            XCTAssertThrowsError(try database.query("SELECT ? AS d", [Date(timeIntervalSince1970: seconds)])) { error in
                XCTAssertTrue("\(error)".contains("outside DATETIME"), "\(error)")
            }
        }
        XCTAssertThrowsError(try database.query("SELECT ? AS d", [Date(timeIntervalSince1970: .nan)]))
        // The edges themselves are fine.
        let edges = [Date(timeIntervalSince1970: -30_610_224_000), Date(timeIntervalSince1970: 253_402_300_799.5)]
        for date in edges {
            XCTAssertEqual(try database.queryOne("SELECT CAST(? AS DATETIME(3)) AS d", [date])?.get("d", as: Date.self), date)
        }
    }

    func testARowThatDoesNotDecodeNamesTheColumnTableAndStatement() throws {
        let database = try makeDatabase(cacheSize: 8)
        let row = try XCTUnwrap(database.queryOne("SELECT `t`.`n` FROM (SELECT 'text' AS n) AS t"))
        XCTAssertThrowsError(try row.get("n", as: Int.self)) { error in
            let decoding = error as? RowDecodingError
            XCTAssertEqual(decoding?.column, "n")
            XCTAssertEqual(decoding?.table, "t")
            XCTAssertEqual(decoding?.sql, "SELECT `t`.`n` FROM (SELECT 'text' AS n) AS t")
        }
        XCTAssertThrowsError(try row.get("missing", as: Int.self)) { error in
            XCTAssertEqual((error as? RowDecodingError)?.column, "missing")
        }
    }

    private func waitUntil(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }
}
