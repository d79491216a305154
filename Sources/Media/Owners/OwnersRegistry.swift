import Foundation
import MariaDB

/// Which host-app entities media can be attached to, and how to tell that one exists and
/// belongs to a user, without this service knowing the host schema: a config file
/// (MEDIA_OWNERS_FILE, JSON) maps each owner type to one SELECT with two named
/// parameters, `:ownerIds` (expanded to a list of placeholders) and `:userId`, returning
/// the ids among them that exist and are the user's. One query answers for up to
/// `maxBatch` owners, so batch endpoints stay at a constant number of queries.
public struct OwnersRegistry: Sendable {
    public static let maxBatch = 500

    /// The query of each owner type, split around its parameters.
    private let queries: [MediaOwnerType: OwnerQuery]

    public struct Invalid: Error, CustomStringConvertible {
        public let problems: [String]
        public var description: String { problems.joined(separator: "\n") }
    }

    /// Reads and validates the file: every owner type present, nothing else, each query
    /// one SELECT using both parameters and no other.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(problems: ["MEDIA_OWNERS_FILE=\(path): cannot read the file"])
        }
        try self.init(data: data, path: path)
    }

    /// The file's contents, as read from `path` (named in the problems).
    package init(data: Data, path: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Invalid(problems: ["MEDIA_OWNERS_FILE=\(path): not a JSON object"])
        }
        var problems: [String] = []
        var queries: [MediaOwnerType: OwnerQuery] = [:]
        for (key, value) in object.sorted(by: { $0.key < $1.key }) where !key.hasPrefix("//") {
            guard let type = MediaOwnerType(rawValue: key) else {
                problems.append("MEDIA_OWNERS_FILE: `\(key)` is not an owner type (\(MediaOwnerType.allCases.map(\.rawValue).joined(separator: ", ")))")
                continue
            }
            guard let sql = value as? String else {
                problems.append("MEDIA_OWNERS_FILE: `\(key)` must be a SQL string")
                continue
            }
            do {
                queries[type] = try OwnerQuery(sql)
            } catch let error as Invalid {
                problems += error.problems.map { "MEDIA_OWNERS_FILE: `\(key)`: \($0)" }
            }
        }
        for type in MediaOwnerType.allCases where queries[type] == nil && object[type.rawValue] == nil {
            problems.append("MEDIA_OWNERS_FILE: no query for owner type `\(type.rawValue)`")
        }
        guard problems.isEmpty else { throw Invalid(problems: problems) }
        self.queries = queries
    }

    /// The ids among `ownerIds` of owners of `type` that exist and belong to `userId`.
    public func existing(_ type: MediaOwnerType, ids ownerIds: [String], userId: String,
                         in database: Database) throws -> Set<String> {
        // Sorted: the same ids bind the same way every time (see `ReadDigest`).
        let unique = Set(ownerIds.filter { !$0.isEmpty && $0.utf8.count <= 191 }).sorted()
        guard !unique.isEmpty else { return [] }
        var found = Set<String>()
        for start in stride(from: 0, to: unique.count, by: Self.maxBatch) {
            let batch = Array(unique[start..<min(start + Self.maxBatch, unique.count)])
            guard let (sql, arguments) = statement(type, ownerIds: batch, userId: userId) else { return [] }
            for row in try database.query(sql, arguments) {
                // The query's first column is the owner id, whatever the host calls it.
                guard let id = row.values.first.flatMap(String.fromDatabaseValue) else { continue }
                found.insert(id)
            }
        }
        return found
    }

    /// The owner type's query with its parameters bound in order.
    package func statement(_ type: MediaOwnerType, ownerIds: [String],
                           userId: String) -> (String, [any DatabaseValueConvertible])? {
        queries[type]?.statement(ownerIds: ownerIds, userId: userId)
    }

    public func exists(_ type: MediaOwnerType, id: String, userId: String, in database: Database) throws -> Bool {
        try existing(type, ids: [id], userId: userId, in: database).contains(id)
    }
}

/// One owner query: literal SQL pieces between its `:ownerIds` and `:userId` parameters.
private struct OwnerQuery: Sendable {
    enum Parameter: Sendable { case ownerIds, userId }
    let pieces: [String]
    let parameters: [Parameter]

    init(_ sql: String) throws {
        let trimmed = sql.trimmingCharacters(in: .whitespacesAndNewlines)
        var problems: [String] = []
        if !trimmed.uppercased().hasPrefix("SELECT ") { problems.append("must be a SELECT") }
        if trimmed.contains(";") { problems.append("must be a single statement (no `;`)") }
        if trimmed.contains("?") { problems.append("use the named parameters :ownerIds and :userId, not `?`") }
        var pieces: [String] = []
        var parameters: [Parameter] = []
        var rest = Substring(trimmed)
        while let colon = rest.firstIndex(of: ":") {
            let name = rest[rest.index(after: colon)...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            switch name {
            case "ownerIds": parameters.append(.ownerIds)
            case "userId": parameters.append(.userId)
            default: problems.append("unknown parameter `:\(name)` (only :ownerIds and :userId)")
            }
            pieces.append(String(rest[..<colon]))
            rest = rest[rest.index(colon, offsetBy: name.count + 1)...]
        }
        pieces.append(String(rest))
        if !parameters.contains(.ownerIds) { problems.append("must use :ownerIds (as `IN (:ownerIds)`)") }
        if !parameters.contains(.userId) { problems.append("must use :userId") }
        guard problems.isEmpty else { throw OwnersRegistry.Invalid(problems: problems) }
        self.pieces = pieces
        self.parameters = parameters
    }

    func statement(ownerIds: [String], userId: String) -> (String, [any DatabaseValueConvertible]) {
        var sql = pieces[0]
        var arguments: [any DatabaseValueConvertible] = []
        for (parameter, piece) in zip(parameters, pieces.dropFirst()) {
            switch parameter {
            case .ownerIds:
                sql += sqlPlaceholders(ownerIds.count)
                arguments += ownerIds as [any DatabaseValueConvertible]
            case .userId:
                sql += "?"
                arguments.append(userId)
            }
            sql += piece
        }
        return (sql, arguments)
    }
}
