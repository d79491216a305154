/// Detects a file's real type from its first bytes. The client's Content-Type and file
/// name are never consulted: they are whatever the uploader chose to send.
public enum MediaTypeSniffer {
    /// How many leading bytes `detect` wants: enough for ISO-BMFF brand lists, the EBML
    /// DocType and a markup prologue.
    public static let prefixLength = 512

    public static func detect(prefix: [UInt8]) -> SniffedType {
        let bytes = prefix[...]
        if bytes.isEmpty { return .unsupported("empty") }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .image(.jpeg) }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .image(.png) }
        if bytes.starts(with: ascii("GIF87a")) || bytes.starts(with: ascii("GIF89a")) { return .image(.gif) }
        if bytes.starts(with: ascii("RIFF")), bytes.count >= 12 {
            let form = bytes[8..<12]
            return form.elementsEqual(ascii("WEBP")) ? .image(.webp) : .unsupported(label(fourCC(form)))
        }
        for tiff in [[0x49, 0x49, 0x2A, 0x00], [0x4D, 0x4D, 0x00, 0x2A],   // classic, II and MM
                     [0x49, 0x49, 0x2B, 0x00], [0x4D, 0x4D, 0x00, 0x2B]] as [[UInt8]]  // BigTIFF
        where bytes.starts(with: tiff) {
            return .image(.tiff)
        }
        if bytes.count >= 12, bytes[4..<8].elementsEqual(ascii("ftyp")) { return isoMediaType(bytes) }
        if bytes.starts(with: [0x1A, 0x45, 0xDF, 0xA3]) {
            // EBML: the DocType element says which Matroska flavour this is.
            return .video(contains(bytes, ascii("webm")) ? .webm : .matroska)
        }
        if let markup = markupKind(bytes) { return .unsupported(markup) }
        // MPEG transport stream: a sync byte every 188 bytes.
        if bytes.count >= 377, [0, 188, 376].allSatisfy({ bytes[$0] == 0x47 }) { return .unsupported("mpeg-ts") }
        for (magic, name) in otherSignatures where bytes.starts(with: magic) {
            return .unsupported(name)
        }
        return .unsupported("unknown")
    }

    // MARK: ISO base media (HEIF, AVIF, MP4, QuickTime)

    private static let avifBrands = ["avif", "avis"]
    private static let heicBrands = ["heic", "heix", "heim", "heis", "hevc", "hevx"]
    /// Generic HEIF still image and image sequence brands, used by HEIC and AVIF alike.
    private static let heifBrands = ["mif1", "msf1"]
    private static let mp4Brands = ["isom", "iso2", "iso3", "iso4", "iso5", "iso6", "mp41", "mp42",
                                    "avc1", "dash", "mmp4", "M4V ", "MSNV", "f4v ", "3gp4", "3gp5", "3gp6"]
    private static let quickTimeBrands = ["qt  "]

    /// Reads the major brand, then the compatible brands, of the leading `ftyp` box.
    private static func isoMediaType(_ bytes: ArraySlice<UInt8>) -> SniffedType {
        let declaredSize = bytes[0..<4].reduce(0) { $0 << 8 | Int($1) }  // 0: up to the end of file
        let end = declaredSize == 0 ? bytes.count : min(bytes.count, max(declaredSize, 16))
        let major = fourCC(bytes[8..<12])
        let compatible = stride(from: 16, to: end - 3, by: 4).map { fourCC(bytes[$0..<$0 + 4]) }
        // A specific major brand decides; then a specific compatible one; the generic
        // HEIF brands ("mif1" major, "avif" compatible is AVIF) only after both.
        for brands in [[major], compatible] {
            if brands.contains(where: avifBrands.contains) { return .image(.avif) }
            if brands.contains(where: heicBrands.contains) { return .image(.heif) }
            if brands.contains(where: mp4Brands.contains) { return .video(.mp4) }
            if brands.contains(where: quickTimeBrands.contains) { return .video(.quicktime) }
        }
        if ([major] + compatible).contains(where: heifBrands.contains) { return .image(.heif) }
        return .unsupported("iso media (\(label(major)))")
    }

    // MARK: Everything refused

    /// Text that starts with markup: SVG (which can carry scripts), HTML, other XML.
    private static func markupKind(_ bytes: ArraySlice<UInt8>) -> String? {
        var text = bytes
        if text.starts(with: [0xEF, 0xBB, 0xBF]) { text = text.dropFirst(3) }
        text = text.drop(while: { [0x20, 0x09, 0x0A, 0x0D].contains($0) })
        guard text.first == UInt8(ascii: "<") else { return nil }
        let lowered = text.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }[...]
        if contains(lowered, ascii("<svg")) { return "svg" }
        if contains(lowered, ascii("<html")) || contains(lowered, ascii("<!doctype html")) { return "html" }
        if contains(lowered, ascii("<mpd")) { return "dash manifest" }
        return "xml"
    }

    private static let otherSignatures: [([UInt8], String)] = [
        (ascii("%PDF-"), "pdf"),
        (ascii("%!PS"), "postscript"),
        (ascii("8BPS"), "psd"),
        (ascii("BM"), "bmp"),
        ([0xFF, 0x0A], "jpeg-xl"),
        ([0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20], "jpeg-xl"),
        ([0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20], "jpeg2000"),
        (ascii("PK\u{3}\u{4}"), "zip"),
        ([0x1F, 0x8B], "gzip"),
        // Video and audio the service does not take, and text that ffmpeg would follow
        // to other files or URLs (playlists, concat lists).
        (ascii("#EXTM3U"), "hls playlist"),
        (ascii("ffconcat"), "ffconcat list"),
        (ascii("FLV\u{1}"), "flv"),
        ([0x00, 0x00, 0x01, 0xBA], "mpeg-ps"),
        ([0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11], "asf"),
        (ascii("OggS"), "ogg"),
        (ascii("fLaC"), "flac"),
        (ascii("ID3"), "mp3"),
        ([0xFF, 0xFB], "mp3"),
        ([0xFF, 0xF3], "mp3"),
        ([0xFF, 0xF1], "aac"),
        ([0xFF, 0xF9], "aac"),
    ]

    // MARK: Helpers

    private static func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

    private static func fourCC(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }

    /// A four-character code as a short lowercase name: "AVI " → "avi".
    private static func label(_ code: String) -> String {
        String(code.lowercased().reversed().drop(while: { $0 == " " }).reversed())
    }

    private static func contains(_ bytes: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        guard bytes.count >= needle.count else { return false }
        return (bytes.startIndex...(bytes.endIndex - needle.count)).contains {
            bytes[$0..<$0 + needle.count].elementsEqual(needle)
        }
    }
}
