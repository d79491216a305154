/// Bounds the metadata an image carries, from its container structure alone, before
/// libvips opens it: libvips reads text chunks, EXIF, XMP, ICC profiles and comments whole
/// at header time, so a valid 500 KB PNG whose zTXt inflates to 512 MiB, or a JPEG with
/// 10 MB of ICC segments, would otherwise cost that much memory. Counted: PNG tEXt, zTXt,
/// iTXt, iCCP (compressed parts as they inflate, inflating no further than the limit) and
/// eXIf; JPEG APPn and COM segments, also between scans; WebP ICCP, EXIF and XMP chunks;
/// GIF comment, application and plain-text extensions; TIFF text, byte-blob, XMP, IPTC,
/// Photoshop and ICC tags; HEIF/AVIF ICC colour boxes and Exif/XMP items. The scan holds
/// a 64 KiB window whatever the file size, and stops where the structure ends or breaks
/// (a damaged file is libvips' to refuse).
public enum MetadataScan {
    /// The metadata bytes found (all of them when within `limit`); throws
    /// `ImagingError.metadataTooLarge` as soon as they pass it.
    @discardableResult
    public static func measure(_ input: ScanInput, format: ImageFormat, limit: Int) throws -> Int {
        var reader = ScanReader(input)
        var tally = Tally(limit: limit)
        switch format {
        case .png: try png(&reader, &tally)
        case .jpeg: try jpeg(&reader, &tally)
        case .webp: try webp(&reader, &tally)
        case .gif: try gif(&reader, &tally)
        case .tiff: try tiff(&reader, &tally)
        case .heif, .avif: try heif(&reader, &tally)
        }
        return tally.total
    }

    private struct Tally {
        let limit: Int
        private(set) var total = 0
        var left: Int { max(0, limit - total) }

        init(limit: Int) {
            self.limit = limit
        }

        mutating func add(_ bytes: Int) throws {
            total = total.addingReportingOverflow(max(0, bytes)).overflow ? Int.max : total + max(0, bytes)
            if total > limit { throw ImagingError.metadataTooLarge(limit: limit) }
        }
    }

    // MARK: PNG

    private static func png(_ reader: inout ScanReader, _ tally: inout Tally) throws {
        guard reader.skip(8) else { return }
        while let length = try reader.bigEndian(4), let type = try reader.bytes(4) {
            let end = reader.position + length + 4  // the data, then its CRC
            switch fourCC(type) {
            case "tEXt", "eXIf":
                try tally.add(min(length, reader.remaining))  // as stored: not what a broken length claims
            case "zTXt", "iCCP":
                // Keyword or profile name, NUL, compression method, then the zlib stream.
                guard let name = try terminated(&reader, within: length), name < length, reader.skip(1) else { break }
                try tally.add(name + 1)
                try inflate(&reader, length - name - 1, &tally)
            case "iTXt":
                // Keyword NUL, compressed flag, method, language tag NUL, translated keyword NUL, text.
                guard let keyword = try terminated(&reader, within: length), let compressed = try reader.byte(),
                      reader.skip(1), let language = try terminated(&reader, within: length - keyword - 2),
                      let translated = try terminated(&reader, within: length - keyword - 2 - language) else { break }
                let header = keyword + 2 + language + translated
                try tally.add(header)
                if compressed == 0 { try tally.add(min(length - header, reader.remaining)) } else { try inflate(&reader, length - header, &tally) }
            case "IEND":
                return
            default:
                break
            }
            guard reader.seek(to: end) else { return }
        }
    }

    /// The length of a NUL-terminated field within the next `limit` bytes, NUL included.
    private static func terminated(_ reader: inout ScanReader, within limit: Int) throws -> Int? {
        var count = 0
        while count < limit, let byte = try reader.byte() {
            count += 1
            if byte == 0 { return count }
        }
        return nil
    }

    private static func inflate(_ reader: inout ScanReader, _ count: Int, _ tally: inout Tally) throws {
        let size = InflatedSize(limit: tally.left)
        try reader.stream(count) { size.feed($0) }
        try tally.add(size.inflated)
    }

    // MARK: JPEG

    private static func jpeg(_ reader: inout ScanReader, _ tally: inout Tally) throws {
        guard reader.skip(2) else { return }  // SOI
        while let first = try reader.byte() {
            // Bytes between segments are junk a decoder skips up to the next marker.
            if first != 0xFF, !(try reader.skip(past: 0xFF)) { return }
            var marker = try reader.byte()
            while marker == 0xFF { marker = try reader.byte() }  // fill bytes
            guard let marker else { return }
            switch marker {
            case 0xD9:
                return  // EOI: whatever follows is not part of the image
            case 0x00, 0x01, 0xD0...0xD8:
                continue  // no length
            default:
                guard let length = try reader.bigEndian(2), length >= 2 else { return }
                if (0xE0...0xEF).contains(marker) || marker == 0xFE { try tally.add(length - 2) }
                guard reader.skip(length - 2) else { return }
                if marker == 0xDA, !(try skipEntropyCodedData(&reader)) { return }
            }
        }
    }

    /// After a scan header: moves to the next marker that is neither a stuffed zero nor a
    /// restart (more segments can follow between the scans of a progressive JPEG).
    private static func skipEntropyCodedData(_ reader: inout ScanReader) throws -> Bool {
        while try reader.skip(past: 0xFF) {
            var next = try reader.byte()
            while next == 0xFF { next = try reader.byte() }
            guard let next else { return false }
            if next == 0x00 || (0xD0...0xD7).contains(next) { continue }
            return reader.seek(to: reader.position - 2)
        }
        return false
    }

    // MARK: WebP

    private static func webp(_ reader: inout ScanReader, _ tally: inout Tally) throws {
        guard reader.skip(12) else { return }
        while let type = try reader.bytes(4), let size = try reader.littleEndian(4) {
            if ["ICCP", "EXIF", "XMP "].contains(fourCC(type)) { try tally.add(min(size, reader.remaining)) }
            guard reader.skip(size + size % 2) else { return }
        }
    }

    // MARK: GIF

    private static func gif(_ reader: inout ScanReader, _ tally: inout Tally) throws {
        guard reader.skip(10), let screen = try reader.byte(), reader.skip(2) else { return }
        if screen & 0x80 != 0, !reader.skip(3 << ((screen & 7) + 1)) { return }
        while let introducer = try reader.byte() {
            switch introducer {
            case 0x21:
                // Comment, application (XMP, ICC) and plain-text extensions carry metadata.
                guard let label = try reader.byte() else { return }
                let counted = label == 0xFE || label == 0xFF || label == 0x01
                guard try subBlocks(&reader, { if counted { try tally.add($0) } }) else { return }
            case 0x2C:
                guard reader.skip(8), let image = try reader.byte() else { return }
                if image & 0x80 != 0, !reader.skip(3 << ((image & 7) + 1)) { return }
                guard reader.skip(1), try subBlocks(&reader, { _ in }) else { return }
            default:
                return  // the trailer, or damage
            }
        }
    }

    /// Data sub-blocks up to the terminator; false when the file ends first.
    private static func subBlocks(_ reader: inout ScanReader, _ counted: (Int) throws -> Void) throws -> Bool {
        while let size = try reader.byte() {
            if size == 0 { return true }
            try counted(Int(size))
            guard reader.skip(Int(size)) else { return false }
        }
        return false
    }

    // MARK: TIFF

    /// XMP, IPTC, Photoshop, ICC profile, Photoshop layers: blobs whatever their declared type.
    private static let blobTags: Set<Int> = [700, 33723, 34377, 34675, 37724]
    /// Bytes per value, by TIFF field type.
    private static let typeSizes: [Int: Int] = [1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4,
                                                12: 8, 13: 4, 16: 8, 17: 8, 18: 8]

    private static func tiff(_ reader: inout ScanReader, _ tally: inout Tally) throws {
        guard let order = try reader.bytes(2) else { return }
        let little = order == [0x49, 0x49]
        func read(_ width: Int) throws -> Int? {
            little ? try reader.littleEndian(width) : try reader.bigEndian(width)
        }
        guard let magic = try read(2) else { return }
        let big = magic == 43
        if big, try read(2) != 8 || !reader.skip(2) { return }
        let offsetWidth = big ? 8 : 4
        var next = try read(offsetWidth)
        var visited = Set<Int>()
        // Every IFD of the chain (each page's tags are read), each once (a loop ends the scan).
        while let offset = next, offset != 0, visited.count < 10_000, visited.insert(offset).inserted,
              reader.seek(to: offset), let entries = try read(big ? 8 : 2) {
            for _ in 0..<min(max(0, entries), 1 << 16) {
                guard let tag = try read(2), let type = try read(2), let count = try read(big ? 8 : 4),
                      reader.skip(offsetWidth) else { return }
                guard type == 2 || type == 7 || blobTags.contains(tag) else { continue }
                let (bytes, overflow) = count.multipliedReportingOverflow(by: typeSizes[type] ?? 1)
                try tally.add(overflow ? reader.size : min(bytes, reader.size))
            }
            next = try read(offsetWidth)
        }
    }

    // MARK: HEIF, AVIF

    private static func heif(_ reader: inout ScanReader, _ tally: inout Tally) throws {
        var offset = 0
        while let box = try box(&reader, at: offset, within: reader.size) {
            if box.type == "meta" { return try heifMeta(&reader, from: box.payload + 4, to: box.end, &tally) }
            offset = box.end
        }
    }

    /// The `meta` box: ICC profiles in `iprp/ipco/colr`, and the extents (`iloc`) of the
    /// items `iinf` declares as `Exif` or `mime` (XMP).
    private static func heifMeta(_ reader: inout ScanReader, from start: Int, to end: Int, _ tally: inout Tally) throws {
        var metadataItems = Set<Int>()
        var extentBytes: [Int: Int] = [:]
        var offset = start
        while let child = try box(&reader, at: offset, within: end) {
            offset = child.end
            switch child.type {
            case "iinf":
                guard let version = try reader.byte(), reader.skip(3 + (version == 0 ? 2 : 4)) else { continue }
                var entry = reader.position
                while let infe = try box(&reader, at: entry, within: child.end), metadataItems.count < 10_000 {
                    entry = infe.end
                    guard infe.type == "infe", let infeVersion = try reader.byte(), infeVersion >= 2, reader.skip(3),
                          let id = try reader.bigEndian(infeVersion == 2 ? 2 : 4), reader.skip(2),
                          let type = try reader.bytes(4) else { continue }
                    if ["Exif", "mime"].contains(fourCC(type)) { metadataItems.insert(id) }
                }
            case "iloc":
                try locations(&reader, within: child.end, into: &extentBytes)
            case "iprp":
                guard let properties = try box(&reader, at: child.payload, within: child.end),
                      properties.type == "ipco" else { continue }
                var property = properties.payload
                while let colour = try box(&reader, at: property, within: properties.end) {
                    property = colour.end
                    guard colour.type == "colr", let kind = try reader.bytes(4),
                          ["prof", "rICC"].contains(fourCC(kind)) else { continue }
                    try tally.add(colour.end - colour.payload - 4)
                }
            default:
                continue
            }
        }
        for item in metadataItems { try tally.add(extentBytes[item] ?? 0) }
    }

    /// Sums each item's extent lengths from an `iloc` box (versions 0 to 2).
    private static func locations(_ reader: inout ScanReader, within end: Int, into bytes: inout [Int: Int]) throws {
        guard let version = try reader.byte(), version <= 2, reader.skip(3), let sizes = try reader.byte(),
              let more = try reader.byte(), let count = try reader.bigEndian(version < 2 ? 2 : 4) else { return }
        let (offsetSize, lengthSize) = (Int(sizes >> 4), Int(sizes & 0x0F))
        let (baseSize, indexSize) = (Int(more >> 4), version == 0 ? 0 : Int(more & 0x0F))
        for _ in 0..<min(count, 10_000) {
            guard reader.position < end, let id = try reader.bigEndian(version < 2 ? 2 : 4),
                  reader.skip((version == 0 ? 0 : 2) + 2 + baseSize), let extents = try reader.bigEndian(2) else { return }
            for _ in 0..<extents {
                // A length of 0 means "to the end of the file".
                guard reader.skip(indexSize + offsetSize), let length = try reader.bigEndian(lengthSize) else { return }
                let counted = length == 0 ? reader.size : min(length, reader.size)
                let (sum, overflow) = bytes[id, default: 0].addingReportingOverflow(counted)
                bytes[id] = overflow ? Int.max : sum
            }
        }
    }

    /// The ISO-BMFF box at `offset`, if it fits within `limit`: its type, where its payload
    /// starts and where it ends. Leaves the reader at the payload.
    private static func box(_ reader: inout ScanReader, at offset: Int,
                            within limit: Int) throws -> (type: String, payload: Int, end: Int)? {
        guard offset + 8 <= limit, reader.seek(to: offset), let size = try reader.bigEndian(4),
              let type = try reader.bytes(4) else { return nil }
        var header = 8, total = size
        if size == 1 {
            guard let large = try reader.bigEndian(8) else { return nil }
            (header, total) = (16, large)
        } else if size == 0 {
            total = limit - offset
        }
        guard total >= header, total <= limit - offset else { return nil }
        return (fourCC(type), offset + header, offset + total)
    }

    private static func fourCC(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
