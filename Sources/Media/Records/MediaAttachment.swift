import Foundation
import MariaDB

/// Links an asset to an entity of the host app without touching its table (table `MediaAttachment`).
public struct MediaAttachment: Codable, Sendable, Equatable {
    public var id: String
    public var assetId: String
    public var userId: String
    public var ownerType: MediaOwnerType
    public var ownerId: String
    public var role: MediaRole
    public var sortOrder: Int
    /// Free-form JSON text (caption, crop…), kept as the client sent it.
    public var meta: JSONText?
    public var createdAt: Date

    public init(id: String, assetId: String, userId: String, ownerType: MediaOwnerType, ownerId: String,
                role: MediaRole, sortOrder: Int, meta: JSONText?, createdAt: Date) {
        self.id = id
        self.assetId = assetId
        self.userId = userId
        self.ownerType = ownerType
        self.ownerId = ownerId
        self.role = role
        self.sortOrder = sortOrder
        self.meta = meta
        self.createdAt = createdAt
    }

    enum Column: String, CaseIterable {
        case id, assetId, userId, ownerType, ownerId, role, sortOrder, meta, createdAt
    }
}

extension MediaAttachment: TableRecord {
    static let table = "MediaAttachment"
    static let selection = columnList()

    init(row: RowCursor) throws {
        var reader = RecordReader<Column>(row)
        id = try reader.next(.id)
        assetId = try reader.next(.assetId)
        userId = try reader.next(.userId)
        ownerType = try reader.next(.ownerType)
        ownerId = try reader.next(.ownerId)
        role = try reader.next(.role)
        sortOrder = try reader.next(.sortOrder)
        meta = try reader.next(.meta)
        createdAt = try reader.next(.createdAt)
    }

    func value(of column: Column) -> any DatabaseValueConvertible {
        switch column {
        case .id: return id
        case .assetId: return assetId
        case .userId: return userId
        case .ownerType: return ownerType
        case .ownerId: return ownerId
        case .role: return role
        case .sortOrder: return sortOrder
        case .meta: return meta
        case .createdAt: return createdAt
        }
    }
}

extension JSONText: Codable {
    /// Encodes as the JSON value itself, not as a string holding it.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(try JSONDecoder().decode(AnyJSON.self, from: Data(text.utf8)))
    }

    public init(from decoder: Decoder) throws {
        let value = try AnyJSON(from: decoder)
        try self.init(encoding: value)
    }
}

/// Any JSON value, to carry client-supplied JSON (meta, params) through Codable unchanged.
public enum AnyJSON: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([AnyJSON])
    case object([String: AnyJSON])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([AnyJSON].self) { self = .array(value) }
        else { self = .object(try container.decode([String: AnyJSON].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { try container.encode(Int64(value)) }
            else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
