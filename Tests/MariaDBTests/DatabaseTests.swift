import Foundation
import MariaDB
import TestSupport
import XCTest

/// Against the live test MariaDB that `scripts/test` starts.
final class DatabaseTests: XCTestCase {
    static func configuration() throws -> ConnectionConfiguration {
        guard let url = TestEnvironment.databaseURL else {
            throw TestFailure("no test database: run the tests with ./scripts/test (DATABASE_URL is unset)")
        }
        return try ConnectionConfiguration(url: url)
    }

    func makeDatabase() throws -> Database { Database(configuration: try Self.configuration()) }

    /// A scratch table that every connection can see, dropped after the test.
    func scratchTable(_ database: Database, _ columns: String) throws -> String {
        let name = "scratch_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12))"
        try database.executeText("CREATE TABLE `\(name)` (\(columns)) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        addTeardownBlock { try? database.executeText("DROP TABLE IF EXISTS `\(name)`") }
        return name
    }

    func testEveryColumnTypeRoundTrips() throws {
        // The process time zone must not matter: DATETIME(3) holds UTC fields.
        let savedZone = ProcessInfo.processInfo.environment["TZ"]
        setenv("TZ", "Asia/Kolkata", 1)
        tzset()
        defer {
            if let savedZone { setenv("TZ", savedZone, 1) } else { unsetenv("TZ") }
            tzset()
        }
        let database = try makeDatabase()
        let table = try scratchTable(database, """
            `id` INTEGER NOT NULL, `s` VARCHAR(191) NULL, `big` BIGINT NULL, `d` DATETIME(3) NULL, `j` JSON NULL,
            `f` DOUBLE NULL, `b` BOOLEAN NULL, `e` ENUM('image', 'video') NULL, `t` TEXT NULL, `bin` BLOB NULL,
            PRIMARY KEY (`id`)
            """)
        let date = Date(timeIntervalSince1970: 1_764_000_000.123)  // 2025-11-24T16:00:00.123Z
        let json = try JSONText(encoding: ["title": "Café ☕ 日本語", "emoji": "🎬"])
        try database.execute("INSERT INTO `\(table)` VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            1, "naïve — text", Int64(1) << 40, date, json, 3.25, true, "video", String(repeating: "é", count: 30_000),
            [UInt8]([0, 1, 2, 255]),
        ])
        try database.execute("INSERT INTO `\(table)` (`id`, `j`) VALUES (?, ?)", [2, JSONText("null")])
        try database.execute("INSERT INTO `\(table)` (`id`, `j`) VALUES (?, ?)", [3, Optional<JSONText>.none])

        let row = try XCTUnwrap(try database.queryOne("SELECT * FROM `\(table)` WHERE `id` = ?", [1]))
        XCTAssertEqual(try row.get("s", as: String.self), "naïve — text")
        XCTAssertEqual(try row.get("big", as: Int64.self), 1_099_511_627_776)
        XCTAssertEqual(try row.get("d", as: Date.self), date)
        XCTAssertEqual(try row.get("j", as: JSONText.self).decode([String: String].self), ["title": "Café ☕ 日本語", "emoji": "🎬"])
        XCTAssertEqual(try row.get("f", as: Double.self), 3.25)
        XCTAssertEqual(try row.get("b", as: Bool.self), true)
        XCTAssertEqual(try row.get("e", as: String.self), "video")
        XCTAssertEqual(try row.get("t", as: String.self), String(repeating: "é", count: 30_000))
        XCTAssertEqual(row["bin"], .bytes([0, 1, 2, 255]))

        // The server sees UTC fields, and its clock is read in UTC on our connections.
        let formatted = try XCTUnwrap(try database.queryOne(
            "SELECT DATE_FORMAT(`d`, '%Y-%m-%dT%H:%i:%s.%f') AS f, @@session.time_zone AS tz, " +
            "TIMESTAMPDIFF(SECOND, CURRENT_TIMESTAMP(3), ?) AS skew, JSON_VALUE(`j`, '$.title') AS title " +
            "FROM `\(table)` WHERE `id` = 1", [Date()]))
        XCTAssertEqual(try formatted.get("f", as: String.self), "2025-11-24T16:00:00.123000")
        XCTAssertEqual(try formatted.get("tz", as: String.self), "+00:00")
        XCTAssertLessThanOrEqual(abs(try formatted.get("skew", as: Int.self)), 5)
        XCTAssertEqual(try formatted.get("title", as: String.self), "Café ☕ 日本語")

        // SQL NULL and JSON null are different things.
        let nulls = try database.query("SELECT `id`, `j`, `j` IS NULL AS isSQLNull FROM `\(table)` WHERE `id` IN (2, 3) ORDER BY `id`")
        XCTAssertEqual(try nulls[0].get("j", as: JSONText?.self), JSONText("null"))
        XCTAssertEqual(try nulls[0].get("isSQLNull", as: Bool.self), false)
        XCTAssertNil(try nulls[1].get("j", as: JSONText?.self))
        XCTAssertEqual(try nulls[1].get("isSQLNull", as: Bool.self), true)

        // An enum value the column does not have is refused, not silently blanked.
        XCTAssertThrowsError(try database.execute("INSERT INTO `\(table)` (`id`, `e`) VALUES (?, ?)", [4, "audio"]))
        // Invalid JSON is refused by MariaDB's json_valid check.
        XCTAssertThrowsError(try database.execute("INSERT INTO `\(table)` (`id`, `j`) VALUES (?, ?)", [5, JSONText("{nope")]))
    }

    /// Rows are read where the stored result holds them: a later execution with longer values
    /// than the first reads them whole, and typed reads come straight from the row.
    func testRowsAreReadInPlaceWhateverTheirLength() throws {
        let database = try makeDatabase()
        let table = try scratchTable(database, """
            `id` INTEGER NOT NULL PRIMARY KEY, `t` LONGTEXT NULL, `n` BIGINT UNSIGNED NULL, `d` DATETIME(3) NULL
            """)
        let select = "SELECT `id`, `t`, `n`, `d` FROM `\(table)` WHERE `id` = ?"
        let lengths = [3, 40, 100_000, 5, 2_000_000]
        for (id, length) in lengths.enumerated() {
            try database.execute("INSERT INTO `\(table)` VALUES (?, ?, ?, ?)",
                                 [id, String(repeating: "é", count: length), Int64(id), Date(timeIntervalSince1970: -30_610_224_000 + 0.25 + Double(id))])
        }
        for (id, length) in lengths.enumerated() {
            var seen = 0
            try database.forEachRow(select, [id]) { row, expectedRows in
                XCTAssertEqual(expectedRows, 1)
                XCTAssertEqual(try row.int(0), id)
                XCTAssertEqual(try row.string(1).count, length, "row \(id)")
                XCTAssertEqual(try row.optionalInt64(2), Int64(id))
                // Year 1000, DATETIME's first day: calendar arithmetic far from the epoch.
                XCTAssertEqual(try row.date(3), Date(timeIntervalSince1970: -30_610_224_000 + 0.25 + Double(id)))
                XCTAssertThrowsError(try row.date(1)) { error in
                    XCTAssertTrue("\(error)".contains("`t`"), "\(error)")
                }
                seen += 1
            }
            XCTAssertEqual(seen, 1)
        }
        try database.execute("INSERT INTO `\(table)` (`id`) VALUES (?)", [99])
        try database.forEachRow(select, [99]) { row, _ in
            XCTAssertNil(try row.optionalString(1))
            XCTAssertThrowsError(try row.string(1), "NULL where a value is required")
            XCTAssertNil(try row.optionalDate(3))
        }
    }

    /// Each binary-protocol encoding read in place (see `ResultLayout`): every integer width
    /// at its extremes, FLOAT, dates of each encoded length, TIME as text, DECIMAL as text,
    /// text whose length prefix takes one, three or four bytes, and a row of NULLs whose
    /// bitmap spans three bytes.
    func testEveryBinaryEncodingIsReadInPlace() throws {
        let database = try makeDatabase()
        let table = try scratchTable(database, """
            `id` INTEGER NOT NULL PRIMARY KEY, `t` TINYINT NULL, `tu` TINYINT UNSIGNED NULL,
            `s` SMALLINT NULL, `su` SMALLINT UNSIGNED NULL, `m` MEDIUMINT NULL, `mu` MEDIUMINT UNSIGNED NULL,
            `i` INT NULL, `iu` INT UNSIGNED NULL, `b` BIGINT NULL, `bu` BIGINT UNSIGNED NULL, `y` YEAR NULL,
            `f` FLOAT NULL, `dt` DATETIME NULL, `d` DATE NULL, `midnight` DATETIME(3) NULL, `tm` TIME(6) NULL,
            `dec` DECIMAL(10,2) NULL, `short` VARCHAR(300) NULL, `prefix3` VARCHAR(300) NULL, `mid` MEDIUMTEXT NULL
            """)
        let short = String(repeating: "a", count: 250), prefix3 = String(repeating: "b", count: 251)
        let mid = String(repeating: "c", count: 70_000)
        try database.execute("""
            INSERT INTO `\(table)` VALUES (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
              -9223372036854775808, 18446744073709551615, 2155, 1.5, '2025-11-24 16:00:07', '1999-12-31',
              '2025-11-24 00:00:00.000', '-838:59:58.5', 12345678.90, ?, ?, ?)
            """, [short, prefix3, mid])
        try database.execute("INSERT INTO `\(table)` (`id`) VALUES (2)")
        let utc = { (text: String) in ISO8601DateFormatter().date(from: text)! }
        var rows = 0
        try database.forEachRow("SELECT * FROM `\(table)` ORDER BY `id`") { row, _ in
            rows += 1
            guard try row.int(0) == 1 else {
                for column in 1..<row.count { XCTAssertTrue(row.isNull(column), row.columnNames[column]) }
                XCTAssertNil(try row.optionalInt64(3))
                XCTAssertNil(try row.optionalString(20))
                XCTAssertNil(try row.optionalDate(13))
                return
            }
            let integers = try (1...11).map { try row.int64($0) }
            XCTAssertEqual(integers, [-128, 255, -32768, 65535, -8_388_608, 16_777_215, -2_147_483_648, 4_294_967_295,
                                      .min, .max /* BIGINT UNSIGNED clamps */, 2155])
            XCTAssertEqual(row.value(12), .double(1.5))
            XCTAssertEqual(try row.date(13), utc("2025-11-24T16:00:07Z"))
            XCTAssertEqual(try row.date(14), utc("1999-12-31T00:00:00Z"))
            XCTAssertEqual(try row.date(15), utc("2025-11-24T00:00:00Z"))
            XCTAssertEqual(try row.string(16), "-838:59:58.500000")
            XCTAssertEqual(try row.string(17), "12345678.90")
            XCTAssertEqual(try row.string(18), short)
            XCTAssertEqual(try row.string(19), prefix3)
            XCTAssertEqual(try row.string(20), mid)
            XCTAssertThrowsError(try row.date(1))
            XCTAssertThrowsError(try row.bytes(2))
        }
        XCTAssertEqual(rows, 2)
    }

    /// An enum column's bytes are matched against packed names; a name longer than the
    /// packing holds is still found, and a prefix, an extension or another case is not.
    func testEnumNamesMatchExactlyThePackedAndTheLongOnes() {
        enum Shade: String, CaseIterable, DatabaseEnum {
            case red, sixteenBytesLong, aVeryLongColourNameIndeed
            static let databaseNames = DatabaseEnumNames<Self>()
        }
        func match(_ text: String) -> Shade? {
            Array(text.utf8).withUnsafeBytes { Shade.databaseNames.value(named: $0) }
        }
        for shade in Shade.allCases { XCTAssertEqual(match(shade.rawValue), shade) }
        for other in ["", "re", "redd", "Red", "sixteenBytesLonG", "sixteenBytesLong ", "aVeryLongColourNameIndeeD"] {
            XCTAssertNil(match(other), other)
        }
    }

    /// A long text repeated down a result is read into the String a caller offers when the
    /// bytes are the same (one allocation shared), and into a new one when they differ.
    func testRepeatedTextReusesTheOfferedString() throws {
        let database = try makeDatabase()
        let table = try scratchTable(database, "`id` INTEGER NOT NULL PRIMARY KEY, `t` VARCHAR(191) NULL")
        let long = String(repeating: "c0ffee", count: 8), other = String(repeating: "c0ffef", count: 8)
        try database.execute("INSERT INTO `\(table)` VALUES (1, ?), (2, ?), (3, ?), (4, NULL), (5, ?)",
                             [long, long, other, "short"])
        var read: [String?] = [], previous: String?
        try database.forEachRow("SELECT `id`, `t` FROM `\(table)` ORDER BY `id`") { row, _ in
            guard !row.isNull(1) else {
                XCTAssertThrowsError(try row.string(1, reusing: previous), "NULL where a value is required")
                return read.append(nil)
            }
            let text = try row.string(1, reusing: previous)
            read.append(text)
            previous = text
        }
        XCTAssertEqual(read, [long, long, other, nil, "short"])
        var first = read[0]!, second = read[1]!, third = read[2]!
        let storage = { (text: inout String) in text.withUTF8 { UInt(bitPattern: $0.baseAddress) } }
        XCTAssertEqual(storage(&first), storage(&second), "the second row shares the first row's String")
        XCTAssertNotEqual(storage(&second), storage(&third))
    }

    /// A read's digest is the same for the same statements, values and rows, and changes
    /// with any of them; a known digest skips the rows, an unknown one reads them all.
    func testReadDigestsNameExactlyWhatWasReadAndSkipKnownContent() throws {
        let database = try makeDatabase()
        let table = try scratchTable(database, """
            `id` INTEGER NOT NULL PRIMARY KEY, `a` VARCHAR(191) NULL, `b` VARCHAR(191) NULL, `n` BIGINT NULL,
            `at` DATETIME(3) NULL
            """)
        try database.execute("INSERT INTO `\(table)` VALUES (1, 'x', NULL, 7, '2026-01-02 03:04:05.678'), (2, '', 'y', NULL, NULL)")
        let select = "SELECT `id`, `a`, `b`, `n`, `at` FROM `\(table)` WHERE `id` >= ? AND (`at` IS NULL OR `at` < ?) ORDER BY `id`"
        let cutoff = Date(timeIntervalSince1970: 2_000_000_000.123)
        func key(_ context: String = "t", scope: String = "u-1", from: Int = 1, sql: String? = nil) throws -> ContentKey {
            let digest = ReadDigest(context: context, scope: scope)
            try database.recordingReads(into: digest) {
                try database.forEachRow(sql ?? select, [from, cutoff]) { _, _ in }
            }
            return digest.key
        }
        let first = try key()
        XCTAssertEqual(try key(), first, "the same read twice (a date value included) has the same key")
        var keys = [first]
        func changes(_ what: String, _ change: String? = nil, _ read: () throws -> ContentKey) throws {
            if let change { try database.execute(change) }
            let changed = try read()
            XCTAssertFalse(keys.contains(changed), what)
            keys.append(changed)
        }
        try changes("another context") { try key("u") }
        try changes("another scope") { try key(scope: "u-2") }
        try changes("another value bound") { try key(from: 2) }
        try changes("another statement with the same rows") { try key(sql: select + " LIMIT 10") }
        try changes("an empty string for NULL", "UPDATE `\(table)` SET `b` = '' WHERE `id` = 1") { try key() }
        try changes("the value moved to the next column",
                    "UPDATE `\(table)` SET `a` = NULL, `b` = 'x' WHERE `id` = 1") { try key() }
        try changes("an integer", "UPDATE `\(table)` SET `n` = 8 WHERE `id` = 1") { try key() }
        try changes("a millisecond", "UPDATE `\(table)` SET `at` = '2026-01-02 03:04:05.679' WHERE `id` = 1") { try key() }
        try changes("a row of NULLs", "INSERT INTO `\(table)` VALUES (3, NULL, NULL, NULL, NULL)") { try key() }
        try changes("a row gone", "DELETE FROM `\(table)` WHERE `id` = 2") { try key() }

        // Known content: no row is handed over. Unknown: every row, once, in order.
        let current = try key()
        var asked: [ContentKey] = [], read: [Int] = []
        let digest = ReadDigest(context: "t", scope: "u-1")
        let decoded = try database.recordingReads(into: digest) {
            try database.forEachRow(select, [1, cutoff], unlessKnown: { asked.append($0); return $0 == current }) { row, _ in
                read.append(try row.int(0))
            }
        }
        XCTAssertFalse(decoded)
        XCTAssertEqual(asked, [current])
        XCTAssertEqual(read, [])
        XCTAssertEqual(digest.key, current)
        let other = ReadDigest(context: "t", scope: "u-1")
        XCTAssertTrue(try database.recordingReads(into: other) {
            try database.forEachRow(select, [1, cutoff], unlessKnown: { _ in false }) { row, _ in read.append(try row.int(0)) }
        })
        XCTAssertEqual(read, [1, 3], "an unknown content is read whole")
        XCTAssertEqual(other.key, current)
        // Outside a recording nothing is digested, so nothing can be known.
        read = []
        XCTAssertTrue(try database.forEachRow(select, [1, cutoff], unlessKnown: { _ in XCTFail("asked"); return true }) { row, _ in
            read.append(try row.int(0))
        })
        XCTAssertEqual(read, [1, 3])
    }

    /// A held result is read after other statements ran, as often as asked; once its
    /// statement ran again or the connection closed, reading it fails as a lost connection
    /// (a read to run again), never touching freed memory.
    func testHeldRowsOutliveOtherStatementsAndFailCleanlyOnceReplaced() throws {
        let database = try makeDatabase()
        let table = try scratchTable(database, "`id` INTEGER NOT NULL PRIMARY KEY, `t` VARCHAR(191) NULL")
        try database.execute("INSERT INTO `\(table)` VALUES (1, 'a'), (2, NULL), (3, 'c')")
        let select = "SELECT `id`, `t` FROM `\(table)` WHERE `id` >= ? ORDER BY `id`"
        var scanned: [Int] = []
        let heldDigest = ReadDigest(context: "t", scope: "u-1")
        let read = try database.recordingReads(into: heldDigest) {
            try database.holdingRows(select, [1], scan: { row, index in
                XCTAssertEqual(index, scanned.count)
                scanned.append(try row.int(0))
            }) { held -> [String?] in
                // Another statement meanwhile, then the held rows, twice.
                try database.forEachRow("SELECT COUNT(*) FROM `\(table)`") { row, _ in XCTAssertEqual(try row.int(0), 3) }
                var texts: [String?] = []
                for _ in 0..<2 { try held.forEachRow { texts.append(try $0.optionalString(1)) } }
                XCTAssertEqual(held.count, 3)
                return texts
            }
        }
        XCTAssertEqual(scanned, [1, 2, 3])
        XCTAssertEqual(read, ["a", nil, "c", "a", nil, "c"])
        let plainDigest = ReadDigest(context: "t", scope: "u-1")
        try database.recordingReads(into: plainDigest) {
            try database.forEachRow(select, [1]) { _, _ in }
            try database.forEachRow("SELECT COUNT(*) FROM `\(table)`") { _, _ in }
        }
        XCTAssertEqual(heldDigest.key, plainDigest.key, "holding digests the same as reading, in the order run")

        // Replaced by its own next execution: the held result is gone.
        try database.holdingRows(select, [1], scan: { _, _ in }) { held in
            try database.forEachRow(select, [2]) { _, _ in }
            XCTAssertThrowsError(try held.forEachRow { _ in XCTFail("a replaced result was read") }) {
                XCTAssertEqual(($0 as? DatabaseError)?.code, 2013)
            }
        }
        // The connection closed meanwhile (a reconnect): gone too, and the next read works.
        try database.holdingRows(select, [1], scan: { _, _ in }) { held in
            database.close()
            XCTAssertThrowsError(try held.forEachRow { _ in XCTFail("a closed statement's result was read") })
        }
        var after: [Int] = []
        try database.forEachRow(select, [3]) { row, _ in after.append(try row.int(0)) }
        XCTAssertEqual(after, [3])
    }

    /// The time statements wait on the server is counted, beside how many ran.
    func testServerWaitIsCountedPerStatement() throws {
        let database = try makeDatabase()
        try database.connect()
        let (statements, waited) = (database.statementsExecuted, database.serverWaitNanoseconds)
        try database.forEachRow("SELECT SLEEP(?)", [0.05]) { _, _ in }
        try database.execute("DO SLEEP(?)", [0.05])
        XCTAssertEqual(database.statementsExecuted - statements, 2)
        let milliseconds = Double(database.serverWaitNanoseconds - waited) / 1_000_000
        XCTAssertGreaterThanOrEqual(milliseconds, 100)
        XCTAssertLessThan(milliseconds, 5_000)
    }

    func testDatesBeforeAndAfterTheEpochKeepMilliseconds() throws {
        let database = try makeDatabase()
        let table = try scratchTable(database, "`id` INTEGER NOT NULL PRIMARY KEY, `d` DATETIME(3) NOT NULL")
        let dates = [Date(timeIntervalSince1970: 0.001), Date(timeIntervalSince1970: 4_102_444_799.999),
                     Date(timeIntervalSince1970: 86_399.5)]
        for (index, date) in dates.enumerated() {
            try database.execute("INSERT INTO `\(table)` VALUES (?, ?)", [index, date])
        }
        let read = try database.query("SELECT `d` FROM `\(table)` ORDER BY `id`").map { try $0.get("d", as: Date.self) }
        XCTAssertEqual(read, dates)
    }

    func testDuplicateKeyIsAConflictNamingTheStatement() throws {
        let database = try makeDatabase()
        let table = try scratchTable(database, "`id` VARCHAR(191) NOT NULL PRIMARY KEY")
        try database.execute("INSERT INTO `\(table)` VALUES (?)", ["a"])
        XCTAssertThrowsError(try database.execute("INSERT INTO `\(table)` VALUES (?)", ["a"])) { error in
            let error = error as! DatabaseError
            XCTAssertTrue(error.isDuplicateKey)
            XCTAssertTrue(error.description.contains("INSERT INTO `\(table)`"), error.description)
        }
        XCTAssertThrowsError(try database.query("SELECT nope FROM `\(table)`")) { error in
            XCTAssertTrue(String(describing: error).contains("SELECT nope"))
        }
    }

    func testValuesAreBoundNeverSpliced() throws {
        let database = try makeDatabase()
        let table = try scratchTable(database, "`id` INTEGER NOT NULL PRIMARY KEY, `s` TEXT NOT NULL")
        let hostile = "x'); DROP TABLE `\(table)`; -- \\ \" ` %_"
        try database.execute("INSERT INTO `\(table)` VALUES (?, ?)", [1, hostile])
        XCTAssertEqual(try database.queryOne("SELECT `s` FROM `\(table)` WHERE `s` = ?", [hostile])?.get("s", as: String.self), hostile)
    }

    func testTransactionRollsBackOnError() throws {
        let database = try makeDatabase()
        let table = try scratchTable(database, "`id` INTEGER NOT NULL PRIMARY KEY")
        XCTAssertThrowsError(try database.inTransaction {
            try database.execute("INSERT INTO `\(table)` VALUES (?)", [1])
            try database.execute("INSERT INTO `\(table)` VALUES (?)", [1])
        })
        XCTAssertEqual(try database.query("SELECT * FROM `\(table)`").count, 0)
        try database.inTransaction { try database.execute("INSERT INTO `\(table)` VALUES (?)", [2]) }
        XCTAssertEqual(try database.query("SELECT * FROM `\(table)`").count, 1)
    }

    /// Two transactions lock two rows in opposite order: InnoDB kills one with a deadlock
    /// (1213), and `inTransaction` runs that one again from the start, so both commit.
    func testDeadlockedTransactionIsRetriedWhole() throws {
        let setup = try makeDatabase()
        let table = try scratchTable(setup, "`id` INTEGER NOT NULL PRIMARY KEY, `n` INTEGER NOT NULL")
        try setup.execute("INSERT INTO `\(table)` VALUES (1, 0), (2, 0)")
        let configuration = try Self.configuration()
        let attempts = concurrently(2) { index -> Result<Int, DatabaseError> in
            let database = Database(configuration: configuration)
            var runs = 0
            do {
                try database.inTransaction {
                    runs += 1
                    let (first, second) = index == 0 ? (1, 2) : (2, 1)
                    try database.execute("UPDATE `\(table)` SET `n` = `n` + 1 WHERE `id` = ?", [first])
                    if runs == 1 { usleep(300_000) }  // both hold their first lock
                    try database.execute("UPDATE `\(table)` SET `n` = `n` + 1 WHERE `id` = ?", [second])
                }
                return .success(runs)
            } catch {
                return .failure(error as! DatabaseError)
            }
        }
        let runs = try attempts.map { try $0.get() }
        XCTAssertEqual(runs.sorted().last, 2, "one transaction was retried after the deadlock")
        let totals = try setup.query("SELECT `n` FROM `\(table)` ORDER BY `id`").map { try $0.get("n", as: Int.self) }
        XCTAssertEqual(totals, [2, 2], "both transactions applied exactly once")
    }

    func testReconnectsAfterTheServerDroppedTheConnection() throws {
        let victim = try makeDatabase()
        let killer = try makeDatabase()
        let id = try XCTUnwrap(try victim.queryOne("SELECT CONNECTION_ID() AS id")).get("id", as: Int64.self)
        try killer.execute("KILL CONNECTION ?", [id])
        usleep(100_000)
        let newId = try XCTUnwrap(try victim.queryOne("SELECT CONNECTION_ID() AS id")).get("id", as: Int64.self)
        XCTAssertNotEqual(newId, id)
        XCTAssertEqual(try victim.queryOne("SELECT @@session.time_zone AS tz")?.get("tz", as: String.self), "+00:00",
                       "the session settings are applied again on reconnect")
    }

    func testUnreachableServerFailsFastAsConnectionFailure() throws {
        var configuration = try Self.configuration()
        configuration.socket = nil
        configuration.host = "127.0.0.1"
        configuration.port = 1
        let database = Database(configuration: configuration)
        let started = Date()
        XCTAssertThrowsError(try database.query("SELECT 1")) { error in
            XCTAssertTrue((error as? DatabaseError)?.isConnectionFailure == true, "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), Double(configuration.connectTimeoutSeconds))
    }

    func testDatabaseURLParsing() throws {
        let parsed = try ConnectionConfiguration(url: "mysql://me%40x:p%3Ass@db.internal:3307/media?socket=/run/m.sock&connect_timeout=2&connection_limit=5")
        XCTAssertEqual(parsed.user, "me@x")
        XCTAssertEqual(parsed.password, "p:ss")
        XCTAssertEqual(parsed.host, "db.internal")
        XCTAssertEqual(parsed.port, 3307)
        XCTAssertEqual(parsed.database, "media")
        XCTAssertEqual(parsed.socket, "/run/m.sock")
        XCTAssertEqual(parsed.connectTimeoutSeconds, 2)
        for bad in ["postgres://u@h/d", "mysql://h/d", "mysql://u@h/", "mysql://u@h/d?socket=relative", "mysql://u@h/d?connect_timeout=0"] {
            XCTAssertThrowsError(try ConnectionConfiguration(url: bad), bad)
        }
    }
}
