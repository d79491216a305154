import Foundation
import Media
import XCTest

/// schema.prisma is the schema's source of truth (DESIGN §2). migration.sql must be byte for byte
/// what Prisma's MySQL renderer emits for it, and ExpectedSchema.media — what the service checks
/// the live database against — must describe the same tables, columns, types and indexes.
enum SchemaAgreement {
    /// `migration` creates the tables; each of `later` adds columns to them (ALTER TABLE).
    static func differences(schema: String, migration: String, later: [String] = [],
                            expected: ExpectedSchema?) -> [String] {
        let prisma = PrismaSchema.tables(from: schema)
        var sql = MigrationSQL.tables(from: migration)
        let additions = later.map(MigrationSQL.addedColumns)
        var result = prisma.problems + sql.problems + additions.flatMap(\.problems)
        // The first migration is the schema as it was before the later ones added their columns.
        let added = additions.flatMap(\.columns)
        let original = prisma.tables.map { table in
            var table = table
            table.columns.removeAll { column in added.contains { $0.table == table.name && $0.column.name == column.name } }
            return table
        }
        result += layout(rendered: PrismaMySQLRenderer.render(original), file: migration)
        for (text, addition) in zip(later, additions) {
            result += layout(rendered: PrismaMySQLRenderer.renderAddedColumns(addition.columns), file: text)
        }
        for (table, column) in added {
            guard let index = sql.tables.firstIndex(where: { $0.name == table }) else {
                result.append("a later migration adds `\(table).\(column.name)` to a table no migration creates"); continue
            }
            sql.tables[index].columns.append(column)
        }
        result += compare(prisma: prisma.tables, sql: sql.tables)
        if let expected {
            if prisma.tables == sql.tables {
                result += compare(sql.tables, source: "schema.prisma and migration.sql", with: expected)
            } else {
                result += compare(prisma.tables, source: "schema.prisma", with: expected)
                result += compare(sql.tables, source: "migration.sql", with: expected)
            }
        }
        return result
    }

    /// The first line where migration.sql differs from Prisma's rendering (headers, indent, order, …).
    static func layout(rendered: String, file: String) -> [String] {
        let expected = sourceLines(rendered), actual = sourceLines(file)
        func line(_ lines: [String], _ i: Int) -> String {  // quoted, with \r and \t made visible
            i < lines.count ? "\"" + lines[i].replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\t", with: "\\t") + "\"" : "(end of file)"
        }
        guard let i = (0..<max(expected.count, actual.count)).first(where: { line(expected, $0) != line(actual, $0) }) else { return [] }
        return ["migration.sql line \(i + 1) is not what Prisma renders from schema.prisma:\n"
                + "    Prisma renders: \(line(expected, i))\n    migration.sql:  \(line(actual, i))"]
    }

    /// Structural differences between the tables schema.prisma implies and those migration.sql creates.
    static func compare(prisma: [SQLTable], sql: [SQLTable]) -> [String] {
        var result: [String] = []
        for table in sql where !prisma.contains(where: { $0.name == table.name }) {
            result.append("table `\(table.name)` is in migration.sql but schema.prisma has no model \(table.name)")
        }
        for model in prisma {
            guard let table = sql.first(where: { $0.name == model.name }) else {
                result.append("model \(model.name) has no CREATE TABLE `\(model.name)` in migration.sql"); continue
            }
            for column in table.columns where !model.columns.contains(where: { $0.name == column.name }) {
                result.append("column `\(table.name).\(column.name)` is in migration.sql but not in model \(model.name)")
            }
            for field in model.columns {
                let name = "column `\(model.name).\(field.name)`"
                guard let column = table.columns.first(where: { $0.name == field.name }) else {
                    result.append("\(name) (from schema.prisma) is missing from migration.sql"); continue
                }
                if field.type != column.type {
                    result.append("\(name) is \(column.type) in migration.sql, schema.prisma maps it to \(field.type)"
                                  + enumValueDifference(prisma: field.type, sql: column.type))
                }
                if field.nullable != column.nullable {
                    result.append("\(name) is \(nullability(column)) in migration.sql, \(nullability(field)) per schema.prisma")
                }
                if field.defaultValue != column.defaultValue || field.autoIncrement != column.autoIncrement {
                    result.append("\(name) has \(defaultText(column)) in migration.sql, schema.prisma implies \(defaultText(field))")
                }
            }
            let common = model.columns.map(\.name).filter { name in table.columns.contains { $0.name == name } }
            if table.columns.map(\.name).filter(common.contains) != common {
                result.append("columns of `\(table.name)` are not in the order of model \(model.name)'s fields")
            }
            if model.primaryKey != table.primaryKey {
                result.append("primary key of `\(table.name)` is (\(table.primaryKey.joined(separator: ", "))) in migration.sql, (\(model.primaryKey.joined(separator: ", "))) per schema.prisma")
            }
            result += compareNamed("index", table: table.name, prisma: model.indexes.map { ($0.name, $0.shape) },
                                   sql: table.indexes.map { ($0.name, $0.shape) })
            result += compareNamed("foreign key", table: table.name, prisma: model.foreignKeys.map { ($0.name, $0.shape) },
                                   sql: table.foreignKeys.map { ($0.name, $0.shape) })
        }
        return result
    }

    /// Indexes or foreign keys matched by name; one found under another name breaks Prisma's naming.
    static func compareNamed(_ kind: String, table: String, prisma: [(name: String, shape: String)],
                             sql: [(name: String, shape: String)]) -> [String] {
        var result: [String] = []
        var unmatched = sql.filter { key in !prisma.contains { $0.name == key.name } }
        for key in prisma {
            if let found = sql.first(where: { $0.name == key.name }) {
                if found.shape != key.shape {
                    result.append("\(kind) `\(key.name)` on `\(table)` is \(found.shape) in migration.sql, \(key.shape) per schema.prisma")
                }
            } else if let i = unmatched.firstIndex(where: { $0.shape == key.shape }) {
                result.append("\(kind) \(key.shape) on `\(table)` is named `\(unmatched[i].name)` in migration.sql; Prisma names it `\(key.name)`")
                unmatched.remove(at: i)
            } else {
                result.append("\(kind) `\(key.name)` \(key.shape) on `\(table)` from schema.prisma is missing from migration.sql")
            }
        }
        return result + unmatched.map { "\(kind) `\($0.name)` \($0.shape) on `\(table)` in migration.sql has no counterpart in schema.prisma" }
    }

    /// ExpectedSchema against tables, in information_schema spelling, in both directions.
    static func compare(_ tables: [SQLTable], source: String, with expected: ExpectedSchema) -> [String] {
        var result: [String] = []
        for table in expected.tables where !tables.contains(where: { $0.name == table.name }) {
            result.append("ExpectedSchema.media has table `\(table.name)`, which \(source) does not create")
        }
        for table in tables {
            guard let checked = expected.tables.first(where: { $0.name == table.name }) else {
                result.append("ExpectedSchema.media lacks table `\(table.name)` of \(source)"); continue
            }
            for column in table.columns {
                let name = "`\(table.name).\(column.name)`", type = informationSchemaType(column.type)
                guard let want = checked.columns.first(where: { $0.name == column.name }) else {
                    result.append("ExpectedSchema.media lacks column \(name) (\(type)) of \(source)"); continue
                }
                if want.type != type { result.append("ExpectedSchema.media has column \(name) as \(want.type), \(source) makes it \(type)") }
                if want.nullable != column.nullable {
                    result.append("ExpectedSchema.media has column \(name) \(want.nullable ? "NULL" : "NOT NULL"), \(source) makes it \(nullability(column))")
                }
            }
            for column in checked.columns where !table.columns.contains(where: { $0.name == column.name }) {
                result.append("ExpectedSchema.media has column `\(table.name).\(column.name)`, which \(source) lacks")
            }
            let created = (table.primaryKey.isEmpty ? [] : [SQLIndex(name: "PRIMARY", columns: table.primaryKey, unique: true)]) + table.indexes
            // InnoDB adds an index named after a foreign key when no index starts with its columns.
            let implicit = table.foreignKeys.filter { key in !created.contains { $0.columns.starts(with: key.columns) } }
                .map { SQLIndex(name: $0.name, columns: $0.columns, unique: false) }
            for index in checked.indexes {
                let shape = SQLIndex(name: index.name, columns: index.columns, unique: index.unique).shape
                guard let found = (created + implicit).first(where: { $0.name == index.name }) else {
                    result.append("ExpectedSchema.media has index `\(table.name).\(index.name)` \(shape), which \(source) does not create"); continue
                }
                if found.shape != shape { result.append("ExpectedSchema.media has index `\(table.name).\(index.name)` as \(shape), \(source) makes it \(found.shape)") }
            }
            for index in created where !checked.indexes.contains(where: { $0.name == index.name }) {
                result.append("ExpectedSchema.media lacks index `\(table.name).\(index.name)` \(index.shape) of \(source)")
            }
        }
        return result
    }

    /// information_schema.COLUMNS.COLUMN_TYPE for a Prisma SQL type, lowercased as SchemaVerifier compares it.
    static func informationSchemaType(_ type: String) -> String {
        if type.hasPrefix("ENUM(") { return type.lowercased().replacingOccurrences(of: "', '", with: "','") }
        if type == "BOOLEAN" { return "tinyint(1)" }
        return type.replacingOccurrences(of: "INTEGER", with: "INT").replacingOccurrences(of: ", ", with: ",").lowercased()
    }

    private static func nullability(_ column: SQLColumn) -> String { column.nullable ? "NULL" : "NOT NULL" }

    private static func defaultText(_ column: SQLColumn) -> String {
        column.autoIncrement ? "AUTO_INCREMENT" : column.defaultValue.map { "DEFAULT \($0)" } ?? "no default"
    }

    private static func enumValueDifference(prisma: String, sql: String) -> String {
        guard prisma.hasPrefix("ENUM("), sql.hasPrefix("ENUM(") else { return "" }
        func values(_ type: String) -> [String] {
            type.dropFirst(5).dropLast().split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "' ")) }
        }
        let p = values(prisma), s = values(sql)
        let notInSQL = p.filter { !s.contains($0) }, notInPrisma = s.filter { !p.contains($0) }
        func quoted(_ values: [String]) -> String { values.map { "'\($0)'" }.joined(separator: ", ") }
        let parts = (notInSQL.isEmpty ? [] : ["enum values only in schema.prisma: \(quoted(notInSQL))"])
            + (notInPrisma.isEmpty ? [] : ["enum values only in migration.sql: \(quoted(notInPrisma))"])
        return " (" + (parts.isEmpty ? "same values, different order" : parts.joined(separator: "; ")) + ")"
    }
}

final class PrismaSchemaAgreementTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func read(_ path: String) throws -> String {
        try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
    }

    /// schema.prisma, the migration that creates the tables, and the later ones that add
    /// columns (the test models CREATE TABLE, then ALTER TABLE … ADD COLUMN only).
    private func mediaFiles() throws -> (schema: String, migration: String, later: [String]) {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("prisma-compat/migrations").path)
            .filter { !$0.hasSuffix(".toml") }.sorted()
        XCTAssertEqual(folders, ["20261125220000_add_media", "20261201220000_add_media_metadata"],
                       "expected these migration folders in prisma-compat/migrations")
        XCTAssertTrue(try read("prisma-compat/migrations/migration_lock.toml").contains("provider = \"mysql\""))
        let texts = try folders.map { try read("prisma-compat/migrations/\($0)/migration.sql") }
        return (try read("prisma-compat/schema.prisma"), texts[0], Array(texts.dropFirst()))
    }

    func testSchemaPrismaMigrationSQLAndExpectedSchemaAgree() throws {
        let (schema, migration, later) = try mediaFiles()
        let differences = SchemaAgreement.differences(schema: schema, migration: migration, later: later, expected: .media)
        XCTAssertTrue(differences.isEmpty, "schema.prisma, migration.sql and ExpectedSchema.media disagree:\n- "
                      + differences.joined(separator: "\n- "))
        // The SQL reader loses nothing: rendering what it read gives the file back.
        XCTAssertEqual(PrismaMySQLRenderer.render(MigrationSQL.tables(from: migration).tables), migration)
        XCTAssertEqual(PrismaSchema.tables(from: schema).tables.map(\.name),
                       ["MediaAsset", "MediaVariant", "MediaAttachment", "MediaGenerationJob"])
    }

    func testHostFixtureMigrationIsWhatPrismaRenders() throws {
        let schema = try read("prisma-compat/host-fixture/schema.prisma")
        let migration = try read("prisma-compat/host-fixture/migrations/20261125210000_host_fixture/migration.sql")
        XCTAssertEqual(PrismaSchema.tables(from: schema).tables.map(\.name), ["Script", "Scene", "Character", "Location", "Theme"])
        let differences = SchemaAgreement.differences(schema: schema, migration: migration, expected: nil)
        XCTAssertTrue(differences.isEmpty, "host fixture: " + differences.joined(separator: "\n- "))
    }

    /// Each mutation must produce, for every group of words, one difference containing all of them.
    func testMutationsAreCaught() throws {
        let (schema, migration, later) = try mediaFiles()
        func sql(_ old: String, _ new: String, line: UInt = #line) -> (String, String) { (schema, edit(migration, old, new, line: line)) }
        func prisma(_ old: String, _ new: String, line: UInt = #line) -> (String, String) { (edit(schema, old, new, line: line), migration) }
        var cases: [(what: String, texts: (schema: String, migration: String), mentions: [[String]])] = [
            ("drop a column from the SQL", sql("    `title` VARCHAR(255) NULL,\n", ""),
             [["column `MediaAsset.title`", "missing from migration.sql"], ["migration.sql line 7"],
              ["ExpectedSchema.media has column `MediaAsset.title`", "migration.sql lacks"]]),
            ("rename an index in the SQL", sql("`MediaVariant_assetId_idx`", "`MediaVariant_asset_idx`"),
             [["named `MediaVariant_asset_idx`", "Prisma names it `MediaVariant_assetId_idx`"],
              ["ExpectedSchema.media has index `MediaVariant.MediaVariant_assetId_idx`", "migration.sql does not create"]]),
            ("give an index other columns in the SQL", sql("`MediaAttachment_userId_idx`(`userId`)", "`MediaAttachment_userId_idx`(`userId`, `createdAt`)"),
             [["index `MediaAttachment_userId_idx`", "(userId, createdAt) in migration.sql", "(userId) per schema.prisma"],
              ["ExpectedSchema.media has index `MediaAttachment.MediaAttachment_userId_idx` as (userId)"]]),
            ("make a nullable column NOT NULL in the SQL", sql("`model` VARCHAR(191) NULL", "`model` VARCHAR(191) NOT NULL"),
             [["`MediaGenerationJob.model` is NOT NULL in migration.sql", "NULL per schema.prisma"],
              ["ExpectedSchema.media has column `MediaGenerationJob.model` NULL", "migration.sql makes it NOT NULL"]]),
            ("make an optional field required in schema.prisma", prisma("deletedAt       DateTime?", "deletedAt       DateTime "),
             [["`MediaAsset.deletedAt` is NULL in migration.sql", "NOT NULL per schema.prisma"],
              ["ExpectedSchema.media has column `MediaAsset.deletedAt` NULL", "schema.prisma makes it NOT NULL"]]),
            ("remove an enum value from schema.prisma", prisma("  preview\n  poster\n}", "  preview\n}"),
             [["`MediaVariant.kind`", "enum values only in migration.sql: 'poster'"],
              ["ExpectedSchema.media has column `MediaVariant.kind`", "schema.prisma makes it enum('original','thumbnail','preview')"]]),
            ("drop @db.Text from schema.prisma", prisma("description     String?         @db.Text", "description     String?"),
             [["`MediaAsset.description` is TEXT in migration.sql", "maps it to VARCHAR(191)"],
              ["ExpectedSchema.media has column `MediaAsset.description` as text", "schema.prisma makes it varchar(191)"]]),
            ("drop onDelete: Cascade from a required relation", prisma("[id], onDelete: Cascade)\n\n  @@index([assetId])\n  @@unique", "[id])\n\n  @@index([assetId])\n  @@unique"),
             [["foreign key `MediaVariant_assetId_fkey`", "ON DELETE CASCADE ON UPDATE CASCADE in migration.sql", "ON DELETE RESTRICT ON UPDATE CASCADE per schema.prisma"]]),
            ("rename a foreign key in the SQL", sql("`MediaGenerationJob_resultAssetId_fkey`", "`MediaGenerationJob_result_fkey`"),
             [["named `MediaGenerationJob_result_fkey`", "Prisma names it `MediaGenerationJob_resultAssetId_fkey`"]]),
            ("change an enum default in schema.prisma", prisma("@default(private)", "@default(public)"),
             [["`MediaAsset.visibility` has DEFAULT 'private' in migration.sql", "implies DEFAULT 'public'"]]),
            ("drop DEFAULT 0 from the SQL", sql("`sortOrder` INTEGER NOT NULL DEFAULT 0", "`sortOrder` INTEGER NOT NULL"),
             [["`MediaAttachment.sortOrder` has no default in migration.sql", "implies DEFAULT 0"]]),
            ("drop a @@unique from schema.prisma", prisma("  @@unique([assetId, kind])\n", ""),
             [["index `MediaVariant_assetId_kind_key` UNIQUE (assetId, kind)", "has no counterpart in schema.prisma"]]),
            ("indent the SQL by 2 spaces", sql("(\n    `id` VARCHAR(191) NOT NULL,", "(\n  `id` VARCHAR(191) NOT NULL,"),
             [["migration.sql line 3", "\"    `id` VARCHAR(191) NOT NULL,\""]]),
            ("change the table options", sql(") DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;", ") DEFAULT CHARSET=utf8mb4;"),
             [["migration.sql line 26", "COLLATE utf8mb4_unicode_ci"]]),
            ("drop an -- AddForeignKey header", sql("-- AddForeignKey\n", ""), [["is not what Prisma renders", "-- AddForeignKey"]]),
            ("convert the SQL to CRLF line endings", (schema, migration.replacingOccurrences(of: "\n", with: "\r\n")),
             [["migration.sql line 1", "\"-- CreateTable\\r\""]]),
            ("drop the SQL's final newline", (schema, String(migration.dropLast())), [["(end of file)"]]),
            ("use an attribute the test does not model", prisma("mimeType        String\n", "mimeType        String @map(\"mime_type\")\n"),
             [["MediaAsset.mimeType", "unsupported attribute @map"]]),
        ]
        var laterCases = Array(repeating: later, count: cases.count)
        cases.append(("drop the later migration", (schema, migration), [["column `MediaAsset.metadata`", "missing from migration.sql"]]))
        laterCases.append([])
        cases.append(("make the added column NOT NULL", (schema, migration), [["`MediaAsset.metadata` is NOT NULL in migration.sql"]]))
        laterCases.append(later.map { $0.replacingOccurrences(of: "JSON NULL", with: "JSON NOT NULL") })
        for (mutation, later) in zip(cases, laterCases) {
            let differences = SchemaAgreement.differences(schema: mutation.texts.schema, migration: mutation.texts.migration,
                                                          later: later, expected: .media)
            for words in mutation.mentions where !differences.contains(where: { difference in words.allSatisfy(difference.contains) }) {
                XCTFail("\(mutation.what): no difference mentions \(words); got:\n- " + differences.joined(separator: "\n- "))
            }
        }
    }

    private func edit(_ text: String, _ old: String, _ new: String, line: UInt) -> String {
        guard let range = text.range(of: old) else {
            XCTFail("mutation target not found: \(String(reflecting: old))", line: line)
            return text
        }
        return text.replacingCharacters(in: range, with: new)
    }
}
