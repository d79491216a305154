import MariaDB

/// The Prisma enums of prisma-compat/schema.prisma, value for value.

public enum MediaType: String, Codable, Sendable, CaseIterable, DatabaseEnum {
    case image, video
    public static let databaseNames = DatabaseEnumNames<Self>()
}

public enum MediaStatus: String, Codable, Sendable, CaseIterable, DatabaseEnum {
    case pending, processing, ready, failed
    public static let databaseNames = DatabaseEnumNames<Self>()
}

/// Only `private` has behaviour in the MVP; the others exist so the Node app can store them.
public enum MediaVisibility: String, Codable, Sendable, CaseIterable, DatabaseEnum {
    case `private`, shared, `public`
    public static let databaseNames = DatabaseEnumNames<Self>()
}

public enum MediaSource: String, Codable, Sendable, CaseIterable, DatabaseEnum {
    case upload, generated
    public static let databaseNames = DatabaseEnumNames<Self>()
}

public enum MediaVariantKind: String, Codable, Sendable, CaseIterable, DatabaseEnum {
    case original, thumbnail, preview, poster
    public static let databaseNames = DatabaseEnumNames<Self>()

    /// The order responses list variants in: the declaration's, as the SQL ENUM sorts.
    public var displayRank: Int {
        switch self {
        case .original: 0
        case .thumbnail: 1
        case .preview: 2
        case .poster: 3
        }
    }
}

/// A new owner type is one enum value in a migration plus one entry in the owners registry.
public enum MediaOwnerType: String, Codable, Sendable, CaseIterable, DatabaseEnum {
    case script, character, location, theme, scene
    public static let databaseNames = DatabaseEnumNames<Self>()
}

public enum MediaRole: String, Codable, Sendable, CaseIterable, DatabaseEnum {
    case cover, inline, gallery, reference
    public static let databaseNames = DatabaseEnumNames<Self>()
}

public enum MediaJobStatus: String, Codable, Sendable, CaseIterable, DatabaseEnum {
    case queued, running, succeeded, failed
    public static let databaseNames = DatabaseEnumNames<Self>()
}
