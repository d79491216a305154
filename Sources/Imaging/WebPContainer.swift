/// The RIFF container of an encoded WebP. webpsave in libvips 8.14.1 always writes an
/// EXIF chunk: with the image's EXIF fields removed (and `strip` set) it synthesises a
/// fresh block with resolution, orientation and dimensions. Variants must carry no
/// metadata, so the chunks are dropped from the encoded bytes.
enum WebPContainer {
    private static let metadataChunks: Set<String> = ["EXIF", "XMP ", "ICCP"]
    /// VP8X feature flags announcing those chunks: ICC profile, EXIF, XMP.
    private static let metadataFlags: UInt8 = 0x20 | 0x08 | 0x04

    /// `webp` without EXIF, XMP and ICC chunks; nil if it is not a well-formed WebP.
    static func removingMetadata(from webp: [UInt8]) -> [UInt8]? {
        guard webp.count >= 12, webp[0..<4].elementsEqual("RIFF".utf8), webp[8..<12].elementsEqual("WEBP".utf8) else {
            return nil
        }
        var chunks: [UInt8] = []
        var offset = 12
        while offset + 8 <= webp.count {
            let name = String(decoding: webp[offset..<offset + 4], as: UTF8.self)
            let size = littleEndian(webp, at: offset + 4)
            let end = offset + 8 + size + size % 2  // chunks are padded to an even size
            guard end <= webp.count else { return nil }
            if !metadataChunks.contains(name) {
                var chunk = Array(webp[offset..<end])
                if name == "VP8X", size >= 1 { chunk[8] &= ~metadataFlags }
                chunks += chunk
            }
            offset = end
        }
        guard offset == webp.count else { return nil }
        let riffSize = UInt32(4 + chunks.count)
        return Array("RIFF".utf8) + (0..<4).map { UInt8(truncatingIfNeeded: riffSize >> (8 * $0)) }
            + Array("WEBP".utf8) + chunks
    }

    private static func littleEndian(_ bytes: [UInt8], at offset: Int) -> Int {
        (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
    }
}
