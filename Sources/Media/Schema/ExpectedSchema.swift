/// The schema this service needs, as prisma-compat's migration creates it. The service never
/// runs DDL (migrations are the DBA's); it checks the live schema against this at start and
/// in `check-schema`. A test keeps this, migration.sql and schema.prisma in agreement.
public struct ExpectedSchema: Sendable {
    public struct Column: Sendable, Equatable {
        public let name: String
        /// information_schema.COLUMNS.COLUMN_TYPE, lowercased: `varchar(191)`, `datetime(3)`,
        /// `enum('a','b')`, `bigint(20)`. MariaDB reports JSON as `longtext` with a check.
        public let type: String
        public let nullable: Bool
    }

    public struct Index: Sendable, Equatable {
        public let name: String
        public let columns: [String]
        public let unique: Bool
    }

    public struct Table: Sendable {
        public let name: String
        public let columns: [Column]
        public let indexes: [Index]
    }

    public let tables: [Table]

    public static let media = ExpectedSchema(tables: [
        Table(name: "MediaAsset", columns: [
            string("id"), string("userId"), enumeration("type", MediaType.self),
            string("mimeType"), Column(name: "title", type: "varchar(255)", nullable: true),
            Column(name: "description", type: "text", nullable: true), json("tags"),
            Column(name: "sizeBytes", type: "bigint", nullable: false),
            integer("width"), integer("height"), integer("durationMs"),
            Column(name: "storageKey", type: "varchar(1024)", nullable: false),
            string("storageProvider"), Column(name: "checksum", type: "char(64)", nullable: true),
            enumeration("status", MediaStatus.self), enumeration("visibility", MediaVisibility.self),
            enumeration("source", MediaSource.self),
            datetime("createdAt"), datetime("updatedAt"), datetime("deletedAt", nullable: true), json("metadata"),
        ], indexes: [
            Index(name: "PRIMARY", columns: ["id"], unique: true),
            Index(name: "MediaAsset_userId_deletedAt_createdAt_id_idx", columns: ["userId", "deletedAt", "createdAt", "id"], unique: false),
        ]),
        Table(name: "MediaVariant", columns: [
            string("id"), string("assetId"), enumeration("kind", MediaVariantKind.self), string("format"),
            integer("width"), integer("height"), Column(name: "sizeBytes", type: "bigint", nullable: false),
            Column(name: "storageKey", type: "varchar(1024)", nullable: false), datetime("createdAt"),
        ], indexes: [
            Index(name: "PRIMARY", columns: ["id"], unique: true),
            Index(name: "MediaVariant_assetId_idx", columns: ["assetId"], unique: false),
            Index(name: "MediaVariant_assetId_kind_key", columns: ["assetId", "kind"], unique: true),
        ]),
        Table(name: "MediaAttachment", columns: [
            string("id"), string("assetId"), string("userId"), enumeration("ownerType", MediaOwnerType.self),
            string("ownerId"), enumeration("role", MediaRole.self),
            Column(name: "sortOrder", type: "int", nullable: false), json("meta"), datetime("createdAt"),
        ], indexes: [
            Index(name: "PRIMARY", columns: ["id"], unique: true),
            Index(name: "MediaAttachment_ownerType_ownerId_idx", columns: ["ownerType", "ownerId"], unique: false),
            Index(name: "MediaAttachment_assetId_idx", columns: ["assetId"], unique: false),
            Index(name: "MediaAttachment_userId_idx", columns: ["userId"], unique: false),
            Index(name: "MediaAttachment_ownerType_ownerId_role_assetId_key",
                  columns: ["ownerType", "ownerId", "role", "assetId"], unique: true),
        ]),
        Table(name: "MediaGenerationJob", columns: [
            string("id"), string("userId"), enumeration("type", MediaType.self),
            Column(name: "prompt", type: "text", nullable: false), Column(name: "negativePrompt", type: "text", nullable: true),
            json("params"), string("provider"), string("model", nullable: true),
            enumeration("status", MediaJobStatus.self), Column(name: "error", type: "text", nullable: true),
            Column(name: "attempts", type: "int", nullable: false), json("result"), string("resultAssetId", nullable: true),
            datetime("startedAt", nullable: true), datetime("completedAt", nullable: true),
            datetime("createdAt"), datetime("updatedAt"),
        ], indexes: [
            Index(name: "PRIMARY", columns: ["id"], unique: true),
            Index(name: "MediaGenerationJob_userId_createdAt_idx", columns: ["userId", "createdAt"], unique: false),
            Index(name: "MediaGenerationJob_status_updatedAt_idx", columns: ["status", "updatedAt"], unique: false),
        ]),
    ])

    private static func string(_ name: String, nullable: Bool = false) -> Column {
        Column(name: name, type: "varchar(191)", nullable: nullable)
    }
    private static func integer(_ name: String) -> Column { Column(name: name, type: "int", nullable: true) }
    private static func datetime(_ name: String, nullable: Bool = false) -> Column {
        Column(name: name, type: "datetime(3)", nullable: nullable)
    }
    private static func json(_ name: String) -> Column { Column(name: name, type: "json", nullable: true) }
    private static func enumeration<T: CaseIterable & RawRepresentable>(_ name: String, _ type: T.Type) -> Column
        where T.RawValue == String {
        Column(name: name, type: "enum(" + T.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",") + ")", nullable: false)
    }
}
