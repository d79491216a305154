import Foundation
import Media

/// An asset as the API shows it: the Prisma model's field names, every variant with its
/// URL. Storage keys and the provider stay internal.
struct AssetRepresentation: JSONWritable {
    struct Variant: JSONWritable {
        let id: String
        let kind: MediaVariantKind
        let format: String
        let width: Int?
        let height: Int?
        let sizeBytes: Int64
        let url: String

        func write(to json: inout JSONWriter) {
            json.object { json in
                json.key("format"); json.string(format)
                json.key("height"); json.number(height)
                json.key("id"); json.string(id)
                json.key("kind"); json.string(kind.rawValue)
                json.key("sizeBytes"); json.number(sizeBytes)
                json.key("url"); json.string(url)
                json.key("width"); json.number(width)
            }
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
    let metadata: AssetMetadata?

    // Every field, absent values as `null` (as Prisma returns them), keys in order.
    func write(to json: inout JSONWriter) {
        json.object { json in writeFields(to: &json) }
    }

    /// The fields without the braces, for responses that add some of their own.
    func writeFields(to json: inout JSONWriter) {
        json.key("checksum"); json.string(checksum)
        json.key("createdAt"); json.date(createdAt)
        json.key("description"); json.string(description)
        json.key("durationMs"); json.number(durationMs)
        json.key("height"); json.number(height)
        json.key("id"); json.string(id)
        json.key("metadata")
        if let metadata { Self.write(metadata, to: &json) } else { json.json(nil) }
        json.key("mimeType"); json.string(mimeType)
        json.key("sizeBytes"); json.number(sizeBytes)
        json.key("source"); json.string(source.rawValue)
        json.key("status"); json.string(status.rawValue)
        json.key("tags"); json.array(tags) { json, tag in json.string(tag) }
        json.key("title"); json.string(title)
        json.key("type"); json.string(type.rawValue)
        json.key("updatedAt"); json.date(updatedAt)
        json.key("userId"); json.string(userId)
        json.key("variants"); json.value(variants)
        json.key("visibility"); json.string(visibility.rawValue)
        json.key("width"); json.number(width)
    }

    /// `{"video": {...}}` for videos; keys sorted like the rest.
    static func write(_ metadata: AssetMetadata, to json: inout JSONWriter) {
        json.object { json in
            guard let video = metadata.video else { return }
            json.key("video")
            json.object { json in
                json.key("audioCodec"); json.string(video.audioCodec)
                json.key("bitRate"); json.number(video.bitRate)
                json.key("codec"); json.string(video.codec)
                json.key("frameRate"); json.number(video.frameRate)
                json.key("hasAudio"); json.bool(video.hasAudio)
                json.key("rotation"); json.number(video.rotation)
            }
        }
    }

    init(_ presented: PresentedAsset) {
        let asset = presented.asset
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
        metadata = asset.metadata
        variants = presented.variants.map { item in
            let variant = item.variant
            return Variant(id: variant.id, kind: variant.kind, format: variant.format, width: variant.width,
                           height: variant.height, sizeBytes: variant.sizeBytes, url: item.url)
        }
    }
}
