import Foundation

// Small parsers for PrismaSchemaAgreementTests: schema.prisma → tables (with Prisma's MySQL
// rules), tables → migration.sql text (Prisma's MySQL renderer layout), migration.sql → tables.
// They handle the subset of Prisma the media schema uses and report anything else as a
// problem rather than guess (custom constraint names, @map, scalar lists, …).

struct SQLColumn: Equatable {
    var name: String
    var type: String            // as Prisma writes it: VARCHAR(191), ENUM('a', 'b'), DATETIME(3)
    var nullable: Bool
    var defaultValue: String?   // SQL text after DEFAULT: 'x', 0, CURRENT_TIMESTAMP(3)
    var autoIncrement = false
}

struct SQLIndex: Equatable {
    var name: String
    var columns: [String]
    var unique: Bool
    var shape: String { (unique ? "UNIQUE " : "") + "(" + columns.joined(separator: ", ") + ")" }
}

struct SQLForeignKey: Equatable {
    var name: String
    var columns: [String]
    var referencedTable: String
    var referencedColumns: [String]
    var onDelete: String
    var onUpdate: String
    var shape: String {
        "(\(columns.joined(separator: ", "))) → \(referencedTable)(\(referencedColumns.joined(separator: ", "))) ON DELETE \(onDelete) ON UPDATE \(onUpdate)"
    }
}

struct SQLTable: Equatable {
    var name: String
    var columns: [SQLColumn] = []
    var indexes: [SQLIndex] = []      // in Prisma's order: field @unique, @@index, @@unique
    var primaryKey: [String] = []
    var foreignKeys: [SQLForeignKey] = []
}

/// Lines split at every "\n", so that a "\r" before it stays visible (Swift sees "\r\n" as one Character).
func sourceLines(_ text: String) -> [String] {
    text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
}

// MARK: - schema.prisma → tables

enum PrismaSchema {
    struct Attribute { var name: String; var positional: [String]; var named: [String: String] }
    struct Field { var line: Int; var name: String; var type: String; var optional: Bool; var list: Bool; var attributes: [Attribute] }
    struct Model { var name: String; var fields: [Field] = []; var attributes: [(line: Int, attribute: Attribute)] = [] }

    /// Tables as Prisma's MySQL connector creates them, plus every construct it could not map.
    static func tables(from text: String) -> (tables: [SQLTable], problems: [String]) {
        var problems: [String] = []
        var enums: [String: [String]] = [:]
        var models: [Model] = []
        var block: (kind: String, name: String)?
        for (number, rawLine) in sourceLines(text).enumerated() {
            let line = stripComment(rawLine).trimmingCharacters(in: .whitespacesAndNewlines)
            let at = "schema.prisma line \(number + 1)"
            if line.isEmpty { continue }
            if line == "}" { block = nil; continue }
            guard let current = block else {
                if let m = line.wholeMatch(of: #/(model|enum|generator|datasource)\s+(\w+)\s*\{/#) {
                    block = (String(m.1), String(m.2))
                    if m.1 == "model" { models.append(Model(name: String(m.2))) }
                    if m.1 == "enum" { enums[String(m.2)] = [] }
                } else {
                    problems.append("\(at): unsupported top-level text `\(line)`")
                }
                continue
            }
            switch current.kind {
            case "enum":
                if line.wholeMatch(of: #/\w+/#) != nil { enums[current.name]!.append(line) }
                else { problems.append("\(at): unsupported enum value `\(line)` (@map is not handled)") }
            case "model":
                do {
                    if line.hasPrefix("@@") {
                        models[models.count - 1].attributes += try attributes(in: line[...]).map { (line: number + 1, attribute: $0) }
                    } else if let m = line.firstMatch(of: #/^(\w+)\s+(\w+)(\[\])?(\?)?/#) {
                        models[models.count - 1].fields.append(Field(
                            line: number + 1, name: String(m.1), type: String(m.2), optional: m.4 != nil, list: m.3 != nil,
                            attributes: try attributes(in: line[m.range.upperBound...])))
                    } else {
                        problems.append("\(at): cannot read field `\(line)`")
                    }
                } catch {
                    problems.append("\(at): \(error)")
                }
            default: break  // generator / datasource settings do not affect the SQL
            }
        }
        let modelNames = Set(models.map(\.name))
        let tables = models.map { model in
            table(for: model, enums: enums, modelNames: modelNames, problems: &problems)
        }
        return (tables, problems)
    }

    private static let scalarTypes = ["String": "VARCHAR(191)", "Int": "INTEGER", "BigInt": "BIGINT",
                                      "DateTime": "DATETIME(3)", "Json": "JSON", "Boolean": "BOOLEAN",
                                      "Float": "DOUBLE", "Decimal": "DECIMAL(65, 30)", "Bytes": "LONGBLOB"]
    private static let referentialActions = ["Cascade": "CASCADE", "SetNull": "SET NULL", "Restrict": "RESTRICT",
                                             "NoAction": "NO ACTION", "SetDefault": "SET DEFAULT"]

    private static func table(for model: Model, enums: [String: [String]], modelNames: Set<String>,
                              problems: inout [String]) -> SQLTable {
        var table = SQLTable(name: model.name)
        var uniqueFields: [SQLIndex] = []
        for field in model.fields {
            let at = "schema.prisma line \(field.line) (\(model.name).\(field.name))"
            func unsupported(_ what: String) { problems.append("\(at): unsupported \(what)") }
            if modelNames.contains(field.type) {  // a relation field: a foreign key on the side with `fields:`
                for attribute in field.attributes where attribute.name != "@relation" { unsupported("attribute \(attribute.name) on a relation field") }
                guard let relation = field.attributes.first(where: { $0.name == "@relation" }),
                      let fields = relation.named["fields"].map(list) else { continue }
                for key in relation.named.keys where !["fields", "references", "onDelete", "onUpdate"].contains(key) { unsupported("@relation argument `\(key):`") }
                let onDelete = relation.named["onDelete"] ?? (field.optional ? "SetNull" : "Restrict")
                let onUpdate = relation.named["onUpdate"] ?? "Cascade"
                guard let delete = referentialActions[onDelete], let update = referentialActions[onUpdate] else {
                    unsupported("referential action \(onDelete) / \(onUpdate)"); continue
                }
                table.foreignKeys.append(SQLForeignKey(
                    name: constraintName(model.name, fields, suffix: "_fkey"), columns: fields, referencedTable: field.type,
                    referencedColumns: relation.named["references"].map(list) ?? [], onDelete: delete, onUpdate: update))
                continue
            }
            if field.list { unsupported("scalar list \(field.type)[] (MySQL has none)"); continue }
            let native = field.attributes.first { $0.name.hasPrefix("@db.") }
            var column = SQLColumn(name: field.name, type: "", nullable: field.optional)
            if let native {
                column.type = nativeType(String(native.name.dropFirst(4)), native.positional)
            } else if let values = enums[field.type] {
                column.type = "ENUM(" + values.map { "'\($0)'" }.joined(separator: ", ") + ")"
            } else if let type = scalarTypes[field.type] {
                column.type = type
            } else {
                unsupported("type \(field.type)"); continue
            }
            for attribute in field.attributes {
                if !attribute.named.isEmpty { unsupported("arguments \(attribute.named.keys.sorted()) of \(attribute.name) (DESIGN §2: Prisma's default names)") }
                switch attribute.name {
                case "@id": table.primaryKey = [field.name]
                case "@unique": uniqueFields.append(SQLIndex(name: constraintName(model.name, [field.name], suffix: "_key"),
                                                             columns: [field.name], unique: true))
                case "@updatedAt": break  // set by Prisma Client, no database default
                case "@default":
                    let value = attribute.positional.first ?? ""
                    switch value {
                    case "cuid()", "uuid()": break
                    case "now()": column.defaultValue = column.type.replacingOccurrences(of: "DATETIME", with: "CURRENT_TIMESTAMP")
                    case "autoincrement()": column.autoIncrement = true
                    case "true", "false": column.defaultValue = value
                    default:
                        if value.hasPrefix("\"") {
                            column.defaultValue = "'" + value.dropFirst().dropLast().replacingOccurrences(of: "'", with: "''") + "'"
                        } else if Double(value) != nil {
                            column.defaultValue = value
                        } else if let values = enums[field.type] {
                            if values.contains(value) { column.defaultValue = "'\(value)'" }
                            else { problems.append("\(at): default \(value) is not a value of enum \(field.type)") }
                        } else {
                            unsupported("default \(value)")
                        }
                    }
                default:
                    if !attribute.name.hasPrefix("@db.") { unsupported("attribute \(attribute.name)") }
                }
            }
            table.columns.append(column)
        }
        table.indexes = uniqueFields
        // Prisma visits every @@index before every @@unique, whatever their order in the model.
        for kind in ["@@id", "@@index", "@@unique"] {
            for (line, attribute) in model.attributes where attribute.name == kind {
                guard attribute.named.isEmpty, attribute.positional.count == 1 else {
                    problems.append("schema.prisma line \(line): unsupported arguments of \(kind) (DESIGN §2: Prisma's default names)")
                    continue
                }
                let columns = list(attribute.positional[0])
                switch kind {
                case "@@id": table.primaryKey = columns
                case "@@index": table.indexes.append(SQLIndex(name: constraintName(model.name, columns, suffix: "_idx"), columns: columns, unique: false))
                default: table.indexes.append(SQLIndex(name: constraintName(model.name, columns, suffix: "_key"), columns: columns, unique: true))
                }
            }
        }
        for (line, attribute) in model.attributes where !["@@id", "@@index", "@@unique"].contains(attribute.name) {
            problems.append("schema.prisma line \(line): unsupported attribute \(attribute.name)")
        }
        return table
    }

    /// Prisma's ConstraintNames: `{table}_{columns}` cut to fit MySQL's 64 characters with the suffix.
    static func constraintName(_ table: String, _ columns: [String], suffix: String) -> String {
        String(([table] + columns).joined(separator: "_").prefix(64 - suffix.count)) + suffix
    }

    /// `@db.VarChar(255)` → `VARCHAR(255)`, `@db.Text` → `TEXT`, `@db.UnsignedInt` → `INTEGER UNSIGNED`.
    private static func nativeType(_ name: String, _ arguments: [String]) -> String {
        let unsigned = name.hasPrefix("Unsigned")
        let base = unsigned ? String(name.dropFirst(8)) : name
        let type = (base == "Int" ? "INTEGER" : base.uppercased()) + (arguments.isEmpty ? "" : "(" + arguments.joined(separator: ", ") + ")")
        return unsigned ? type + " UNSIGNED" : type
    }

    // MARK: lexing

    struct SyntaxError: Error, CustomStringConvertible { var description: String }

    /// `@id @default(cuid()) @db.VarChar(255)` → attributes with their top-level arguments.
    static func attributes(in text: Substring) throws -> [Attribute] {
        var result: [Attribute] = []
        var rest = text.drop { $0.isWhitespace }
        while !rest.isEmpty {
            guard let m = rest.prefixMatch(of: #/@@?[\w.]+/#) else { throw SyntaxError(description: "unexpected `\(rest)`") }
            var attribute = Attribute(name: String(m.0), positional: [], named: [:])
            rest = rest[m.range.upperBound...]
            if rest.first == "(" {
                guard let close = matchingParenthesis(rest) else { throw SyntaxError(description: "unbalanced `\(rest)`") }
                for argument in splitTopLevel(rest[rest.index(after: rest.startIndex)..<close]) {
                    if let named = argument.wholeMatch(of: #/(\w+)\s*:\s*(.+)/#) {
                        attribute.named[String(named.1)] = String(named.2)
                    } else {
                        attribute.positional.append(argument)
                    }
                }
                rest = rest[rest.index(after: close)...]
            }
            result.append(attribute)
            rest = rest.drop { $0.isWhitespace }
        }
        return result
    }

    /// `[a, b]` → `["a", "b"]`.
    static func list(_ text: String) -> [String] {
        splitTopLevel(text.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))[...])
    }

    static func splitTopLevel(_ text: Substring) -> [String] {
        var parts: [String] = [], current = "", depth = 0, quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            if !quoted { depth += "([".contains(character) ? 1 : ")]".contains(character) ? -1 : 0 }
            if character == ",", depth == 0, !quoted { parts.append(current); current = "" } else { current.append(character) }
        }
        parts.append(current)
        return parts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private static func matchingParenthesis(_ text: Substring) -> Substring.Index? {
        var depth = 0, quoted = false
        for index in text.indices {
            if text[index] == "\"" { quoted.toggle() }
            if quoted { continue }
            if text[index] == "(" { depth += 1 }
            if text[index] == ")" { depth -= 1; if depth == 0 { return index } }
        }
        return nil
    }

    /// Drops a `//` comment that is not inside a string.
    private static func stripComment(_ line: String) -> String {
        var quoted = false, previous: Character = " "
        for index in line.indices {
            if line[index] == "\"" { quoted.toggle() }
            if !quoted, line[index] == "/", previous == "/" { return String(line[..<line.index(before: index)]) }
            previous = line[index]
        }
        return line
    }
}

// MARK: - tables → migration.sql (Prisma's MySQL renderer)

enum PrismaMySQLRenderer {
    static func render(_ tables: [SQLTable]) -> String {
        func names(_ columns: [String]) -> String { columns.map { "`\($0)`" }.joined(separator: ", ") }
        var steps = tables.map { table in
            let columns = table.columns.map { "    " + definition($0) }
            var keys = table.indexes.map { "    \($0.unique ? "UNIQUE " : "")INDEX `\($0.name)`(\(names($0.columns)))" }
            if !table.primaryKey.isEmpty { keys.append("    PRIMARY KEY (\(names(table.primaryKey)))") }
            return "-- CreateTable\nCREATE TABLE `\(table.name)` (\n" + columns.joined(separator: ",\n")
                + (keys.isEmpty ? "" : ",\n\n" + keys.joined(separator: ",\n"))
                + "\n) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
        }
        steps += tables.flatMap { table in
            table.foreignKeys.map { key in
                "-- AddForeignKey\nALTER TABLE `\(table.name)` ADD CONSTRAINT `\(key.name)` FOREIGN KEY (\(names(key.columns))) "
                    + "REFERENCES `\(key.referencedTable)`(\(names(key.referencedColumns))) ON DELETE \(key.onDelete) ON UPDATE \(key.onUpdate);"
            }
        }
        return steps.joined(separator: "\n\n") + "\n"
    }

    /// A migration that adds columns, as `prisma migrate dev` writes it: one ALTER TABLE per table.
    static func renderAddedColumns(_ columns: [(table: String, column: SQLColumn)]) -> String {
        var tables: [String] = []
        for (table, _) in columns where !tables.contains(table) { tables.append(table) }
        return tables.map { table in
            let additions = columns.filter { $0.table == table }.map { "ADD COLUMN " + definition($0.column) }
            return "-- AlterTable\nALTER TABLE `\(table)` " + additions.joined(separator: ",\n    ") + ";"
        }.joined(separator: "\n\n") + "\n"
    }

    static func definition(_ column: SQLColumn) -> String {
        "`\(column.name)` \(column.type) \(column.nullable ? "NULL" : "NOT NULL")"
            + (column.defaultValue.map { " DEFAULT \($0)" } ?? "") + (column.autoIncrement ? " AUTO_INCREMENT" : "")
    }
}

// MARK: - migration.sql → tables

enum MigrationSQL {
    /// Reads CREATE TABLE and ADD FOREIGN KEY statements leniently (whitespace, order), so that
    /// structural differences get structural messages; the exact layout is checked separately.
    static func tables(from text: String) -> (tables: [SQLTable], problems: [String]) {
        var tables: [SQLTable] = [], problems: [String] = []
        var current: SQLTable?
        func names(_ text: Substring) -> [String] {
            text.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "` ")) }
        }
        for (number, rawLine) in sourceLines(text).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)  // CRLF is a layout problem only
            if line.isEmpty || line.hasPrefix("--") { continue }
            if current != nil, line.hasSuffix(",") { line.removeLast() }
            if var table = current {
                if line.hasPrefix(")") {
                    tables.append(table); current = nil; continue
                } else if let m = line.wholeMatch(of: #/`(\w+)`\s+(.+?)\s+(NOT NULL|NULL)(?:\s+DEFAULT\s+(.+?))?(\s+AUTO_INCREMENT)?/#) {
                    table.columns.append(SQLColumn(name: String(m.1), type: String(m.2), nullable: m.3 == "NULL",
                                                   defaultValue: m.4.map(String.init), autoIncrement: m.5 != nil))
                } else if let m = line.wholeMatch(of: #/(UNIQUE\s+)?INDEX\s+`(\w+)`\s*\((.+)\)/#) {
                    table.indexes.append(SQLIndex(name: String(m.2), columns: names(m.3), unique: m.1 != nil))
                } else if let m = line.wholeMatch(of: #/PRIMARY KEY\s*\((.+)\)/#) {
                    table.primaryKey = names(m.1)
                } else {
                    problems.append("migration.sql line \(number + 1): unrecognised line in CREATE TABLE `\(table.name)`: `\(line)`")
                }
                current = table
            } else if let m = line.wholeMatch(of: #/CREATE TABLE\s+`(\w+)`\s*\(/#) {
                current = SQLTable(name: String(m.1))
            } else if let m = line.wholeMatch(of: #/ALTER TABLE\s+`(\w+)`\s+ADD CONSTRAINT\s+`(\w+)`\s+FOREIGN KEY\s*\((.+?)\)\s+REFERENCES\s+`(\w+)`\s*\((.+?)\)\s+ON DELETE\s+(.+?)\s+ON UPDATE\s+(.+?);/#) {
                guard let index = tables.firstIndex(where: { $0.name == m.1 }) else {
                    problems.append("migration.sql line \(number + 1): foreign key on `\(m.1)` before (or without) its CREATE TABLE"); continue
                }
                tables[index].foreignKeys.append(SQLForeignKey(name: String(m.2), columns: names(m.3), referencedTable: String(m.4),
                                                               referencedColumns: names(m.5), onDelete: String(m.6), onUpdate: String(m.7)))
            } else {
                problems.append("migration.sql line \(number + 1): unrecognised statement `\(line)`")
            }
        }
        if let current { problems.append("migration.sql: CREATE TABLE `\(current.name)` is not closed") }
        return (tables, problems)
    }

    /// The columns a later migration adds: `ALTER TABLE `T` ADD COLUMN `c` TYPE NULL;` only.
    static func addedColumns(from text: String) -> (columns: [(table: String, column: SQLColumn)], problems: [String]) {
        var columns: [(table: String, column: SQLColumn)] = [], problems: [String] = []
        for (number, rawLine) in sourceLines(text).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("--") { continue }
            guard let m = line.wholeMatch(of: #/ALTER TABLE\s+`(\w+)`\s+ADD COLUMN\s+`(\w+)`\s+(.+?)\s+(NOT NULL|NULL)(?:\s+DEFAULT\s+(.+?))?;/#) else {
                problems.append("later migration line \(number + 1): unrecognised statement `\(line)`"); continue
            }
            columns.append((String(m.1), SQLColumn(name: String(m.2), type: String(m.3), nullable: m.4 == "NULL",
                                                   defaultValue: m.5.map(String.init))))
        }
        return (columns, problems)
    }
}
