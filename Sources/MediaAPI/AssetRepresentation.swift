import Foundation
import Media

/// An asset as the API shows it: the Prisma model's field names, every variant with its
/// URL. Storage keys and the provider stay internal.
struct AssetRepresentation: Encodable {
    struct Variant: Encodable {
        let id: String
        let kind: MediaVariantKind
        let format: String
        let width: Int?
        let height: Int?
        let sizeBytes: Int64
        let url: String

        enum CodingKeys: String, CodingKey {
            case id, kind, format, width, height, sizeBytes, url
        }

        // Explicit so that absent values are `null`, as Prisma returns them, not missing keys.
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(kind, forKey: .kind)
            try container.encode(format, forKey: .format)
            try container.encode(width, forKey: .width)
            try container.encode(height, forKey: .height)
            try container.encode(sizeBytes, forKey: .sizeBytes)
            try container.encode(url, forKey: .url)
        }
    }

    let id: String
    let userId: String
    let type: MediaType
    let mimeType: String
    let title: String?
    let description: String?
    let tags: [String]
    let sizeBytes: Int64
    let width: Int?
    let height: Int?
    let durationMs: Int?
    let checksum: String?
    let status: MediaStatus
    let visibility: MediaVisibility
    let source: MediaSource
    let createdAt: Date
    let updatedAt: Date
    let variants: [Variant]

    enum CodingKeys: String, CodingKey {
        case id, userId, type, mimeType, title, description, tags, sizeBytes, width, height, durationMs, checksum,
             status, visibility, source, createdAt, updatedAt, variants
    }

    // Explicit so that absent values are `null`, as Prisma returns them.
    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(userId, forKey: .userId)
        try container.encode(type, forKey: .type)
        try container.encode(mimeType, forKey: .mimeType)
        try container.encode(title, forKey: .title)
        try container.encode(description, forKey: .description)
        try container.encode(tags, forKey: .tags)
        try container.encode(sizeBytes, forKey: .sizeBytes)
        try container.encode(width, forKey: .width)
        try container.encode(height, forKey: .height)
        try container.encode(durationMs, forKey: .durationMs)
        try container.encode(checksum, forKey: .checksum)
        try container.encode(status, forKey: .status)
        try container.encode(visibility, forKey: .visibility)
        try container.encode(source, forKey: .source)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(variants, forKey: .variants)
    }

    init(_ asset: MediaAsset, variants: [MediaVariant], delivery: any DeliveryAdapter) {
        id = asset.id
        userId = asset.userId
        type = asset.type
        mimeType = asset.mimeType
        title = asset.title
        description = asset.description
        tags = asset.tags ?? []
        sizeBytes = asset.sizeBytes
        width = asset.width
        height = asset.height
        durationMs = asset.durationMs
        checksum = asset.checksum
        status = asset.status
        visibility = asset.visibility
        source = asset.source
        createdAt = asset.createdAt
        updatedAt = asset.updatedAt
        let order = MediaVariantKind.allCases
        self.variants = variants
            .sorted { order.firstIndex(of: $0.kind)! < order.firstIndex(of: $1.kind)! }
            .map { Variant(id: $0.id, kind: $0.kind, format: $0.format, width: $0.width, height: $0.height,
                           sizeBytes: $0.sizeBytes, url: delivery.url(for: $0.storageKey)) }
    }
}

/// Loads assets' variants in one query and builds their representations.
struct AssetPresenter {
    let variants: VariantRepository
    let delivery: any DeliveryAdapter

    func present(_ assets: [MediaAsset]) throws -> [AssetRepresentation] {
        let grouped = try variants.variants(ofAssets: assets.map(\.id))
        return assets.map { AssetRepresentation($0, variants: grouped[$0.id] ?? [], delivery: delivery) }
    }

    func present(_ asset: MediaAsset) throws -> AssetRepresentation {
        try present([asset])[0]
    }
}
