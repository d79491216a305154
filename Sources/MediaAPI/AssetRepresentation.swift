import Foundation
import Media

/// An asset as the API shows it: the Prisma model's field names, every variant with its
/// URL. Storage keys and the provider stay internal. Written straight from the presented
/// record (it is its own representation: a page of them is written without a copy of any).
extension PresentedAsset: JSONWritable {
    /// An image with its three variants takes about 850 bytes; a long title, description,
    /// tags or a signed URL take more.
    var estimatedByteCount: Int { 1024 + variants.count * 128 }

    // Every field, absent values as `null` (as Prisma returns them), keys in order.
    func write(to json: inout JSONWriter) {
        json.object { json in writeFields(to: &json) }
    }

    /// The fields without the braces, for responses that add some of their own.
    func writeFields(to json: inout JSONWriter) {
        json.key("checksum"); json.string(asset.checksum)
        json.key("createdAt"); json.date(asset.createdAt)
        json.key("description"); json.string(asset.description)
        json.key("durationMs"); json.number(asset.durationMs)
        json.key("height"); json.number(asset.height)
        json.key("id"); json.string(asset.id)
        json.key("metadata")
        if let metadata = asset.metadata { Self.write(metadata, to: &json) } else { json.json(nil) }
        json.key("mimeType"); json.string(asset.mimeType)
        json.key("sizeBytes"); json.number(asset.sizeBytes)
        json.key("source"); json.string(asset.source.rawValue)
        json.key("status"); json.string(asset.status.rawValue)
        json.key("tags"); json.array(asset.tags ?? []) { json, tag in json.string(tag) }
        json.key("title"); json.string(asset.title)
        json.key("type"); json.string(asset.type.rawValue)
        json.key("updatedAt"); json.date(asset.updatedAt)
        json.key("userId"); json.string(asset.userId)
        json.key("variants")
        // By index, each written in place: iterating the array (or passing an element on)
        // copied every variant, retaining and releasing each of its Strings.
        json.array(variants.indices) { json, index in
            Self.write(variants[index], url: urls[index], to: &json)
        }
        json.key("visibility"); json.string(asset.visibility.rawValue)
        json.key("width"); json.number(asset.width)
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

    /// One variant and its URL.
    static func write(_ variant: borrowing MediaVariant, url: borrowing DeliveryURL, to json: inout JSONWriter) {
        json.object { json in
            json.key("format"); json.string(variant.format)
            json.key("height"); json.number(variant.height)
            json.key("id"); json.string(variant.id)
            json.key("kind"); json.string(variant.kind.rawValue)
            json.key("sizeBytes"); json.number(variant.sizeBytes)
            json.key("url"); json.string(joining: url.base, url.key, url.query)
            json.key("width"); json.number(variant.width)
        }
    }
}
