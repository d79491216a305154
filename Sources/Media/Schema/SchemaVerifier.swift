import MariaDB

/// Compares the live database with `ExpectedSchema` through information_schema and lists
/// every difference the service cannot work with, one line each. Extra columns, indexes
/// and enum values are fine (the Node app may add its own); missing or different ones are not.
public struct SchemaVerifier {
    public let expected: ExpectedSchema

    public init(expected: ExpectedSchema = .media) {
        self.expected = expected
    }

    public func differences(in database: Database) throws -> [String] {
        let columnRows = try database.query("""
            SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, CHECK_CONSTRAINT_JSON
            FROM (SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE,
                         (SELECT COUNT(*) FROM information_schema.CHECK_CONSTRAINTS k
                          WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME
                            AND k.CHECK_CLAUSE LIKE CONCAT('%json_valid(`', c.COLUMN_NAME, '`)%')) AS CHECK_CONSTRAINT_JSON
                  FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA = DATABASE()) AS live
            """)
        var liveColumns: [String: [String: (type: String, nullable: Bool, json: Bool)]] = [:]
        for row in columnRows {
            let table: String = try row.get("TABLE_NAME")
            let type: String = try row.get("COLUMN_TYPE")
            liveColumns[table, default: [:]][try row.get("COLUMN_NAME")] = (
                type.lowercased(), (try row.get("IS_NULLABLE") as String) == "YES",
                (try row.get("CHECK_CONSTRAINT_JSON") as Int) > 0)
        }
        let indexRows = try database.query("""
            SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS
            WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
            """)
        var liveIndexes: [String: [String: (columns: [String], unique: Bool)]] = [:]
        for row in indexRows {
            let table: String = try row.get("TABLE_NAME")
            let name: String = try row.get("INDEX_NAME")
            let unique = (try row.get("NON_UNIQUE") as Int) == 0
            var index = liveIndexes[table]?[name] ?? ([], unique)
            index.columns.append(try row.get("COLUMN_NAME"))
            liveIndexes[table, default: [:]][name] = index
        }

        var problems: [String] = []
        for table in expected.tables {
            guard let columns = liveColumns[table.name] else {
                problems.append("missing table `\(table.name)`")
                continue
            }
            for column in table.columns {
                guard let live = columns[column.name] else {
                    problems.append("missing column `\(table.name).\(column.name)` (\(column.type))")
                    continue
                }
                problems += compare(column, live: live, table: table.name)
            }
            for index in table.indexes {
                guard let live = liveIndexes[table.name]?[index.name] else {
                    problems.append("missing index `\(table.name).\(index.name)` on (\(index.columns.joined(separator: ", ")))")
                    continue
                }
                if live.columns != index.columns || live.unique != index.unique {
                    problems.append("index `\(table.name).\(index.name)` is \(live.unique ? "unique " : "")(\(live.columns.joined(separator: ", "))), expected \(index.unique ? "unique " : "")(\(index.columns.joined(separator: ", ")))")
                }
            }
        }
        return problems
    }

    private func compare(_ column: ExpectedSchema.Column, live: (type: String, nullable: Bool, json: Bool),
                         table: String) -> [String] {
        let name = "`\(table).\(column.name)`"
        var problems: [String] = []
        if column.nullable != live.nullable {
            problems.append("column \(name) is \(live.nullable ? "NULL" : "NOT NULL"), expected \(column.nullable ? "NULL" : "NOT NULL")")
        }
        if column.type.hasPrefix("enum(") {
            guard live.type.hasPrefix("enum(") else {
                problems.append("column \(name) has type \(live.type), expected \(column.type)")
                return problems
            }
            let liveValues = Set(enumValues(live.type))
            for value in enumValues(column.type) where !liveValues.contains(value) {
                problems.append("missing enum value '\(value)' in column \(name)")
            }
            return problems
        }
        if !sameType(column.type, live) {
            problems.append("column \(name) has type \(live.type), expected \(column.type)")
        }
        return problems
    }

    private func sameType(_ expected: String, _ live: (type: String, nullable: Bool, json: Bool)) -> Bool {
        switch expected {
        // MariaDB: JSON is LONGTEXT with a json_valid check; MySQL reports `json`.
        case "json": return live.type == "json" || (live.type == "longtext" && live.json)
        // Display widths (`int(11)`, `bigint(20)`) differ between servers and versions.
        case "int", "bigint": return live.type.split(separator: "(").first.map(String.init) == expected
        default: return live.type == expected
        }
    }

    private func enumValues(_ type: String) -> [String] {
        let inner = type.dropFirst(5).dropLast()
        return inner.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "' ")) }
    }
}

import Foundation
