/// The memory making an image's variants holds at once, estimated from its header before
/// any pixel is decoded, so that an upload whose decode would take hundreds of megabytes
/// is refused instead of raising the worker's peak RSS. The figures were measured on this
/// service's pipeline with libvips 8.14 (a worker's peak RSS over idle; `scripts/bench
/// metadata` measures them again):
///
/// - every decode holds rows of the source while libvips shrinks it: up to about 2,700 rows
///   of its width (an 8000 × 2000 PNG +62 MiB, a 10000 × 10000 PNG or TIFF +71 to +74 MiB);
/// - some decoders hold the whole image besides: a progressive JPEG all its DCT coefficients
///   (2 bytes per sample, chroma halved when subsampled: 100 MP 4:4:4 +615 MiB), an
///   interlaced PNG the decoded image (+340 MiB at 100 MP), GIF an RGBA frame, a lossless or
///   animated WebP an RGBA canvas (+392 MiB at 100 MP), HEIF and AVIF about 8 bytes a pixel
///   (libheif's planes and the RGB output: +194 MiB at 25 MP).
public struct DecodeFootprint: Equatable, Sendable {
    /// What holds the whole image, if anything does.
    public enum WholeImage: String, Sendable {
        case progressiveJPEG = "a progressive JPEG"
        case interlacedPNG = "an interlaced PNG"
        case gifFrame = "a GIF"
        case webpCanvas = "a lossless or animated WebP"
        case heifImage = "a HEIC or AVIF"
    }

    /// Rows of the source the shrink holds, in units of the source's width: the most
    /// measured (2,711) and some margin.
    static let streamedRows = 3_072

    public let bytes: Int
    public let wholeImage: WholeImage?

    /// `bands` and `bytesPerBand` as decoded; `subsampledChroma` is for JPEG.
    init(format: ImageFormat, width: Int, height: Int, bands: Int, bytesPerBand: Int, interlaced: Bool,
         subsampledChroma: Bool, webpCanvas: Bool) {
        let sample = Self.product(max(1, bands), max(1, bytesPerBand))
        let pixels = Self.product(width, height)
        var whole: (WholeImage, Int)?
        switch format {
        case .jpeg where interlaced:
            // Two bytes per coefficient; Cb and Cr at half (4:2:2) or a quarter (4:2:0) of the luma's.
            let perPixelHalves = Self.sum(4, Self.product(max(0, bands - 1), subsampledChroma ? 2 : 4))
            whole = (.progressiveJPEG, Self.product(pixels, perPixelHalves) / 2)
        case .png where interlaced: whole = (.interlacedPNG, Self.product(pixels, sample))
        case .gif: whole = (.gifFrame, Self.product(pixels, 4))
        case .webp where webpCanvas: whole = (.webpCanvas, Self.product(pixels, 4))
        case .heif, .avif: whole = (.heifImage, Self.product(pixels, 8))
        default: whole = nil
        }
        let streamed = Self.product(Self.product(width, sample), Self.streamedRows)
        bytes = Self.sum(streamed, whole?.1 ?? 0)
        wholeImage = whole?.0
    }

    private static func product(_ a: Int, _ b: Int) -> Int {
        let (value, overflow) = max(0, a).multipliedReportingOverflow(by: max(0, b))
        return overflow ? .max : value
    }

    private static func sum(_ a: Int, _ b: Int) -> Int {
        let (value, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : value
    }

    /// Whether libwebp decodes this WebP into a whole RGBA canvas: lossless (`VP8L`) or
    /// animated (`ANIM`/`ANMF`) images. A lossy `VP8 ` image decodes scaled, row by row.
    /// Reads the chunk headers only; a file whose chunks break off answers false (libvips
    /// refuses it later).
    public static func decodesWholeWebPCanvas(_ input: ScanInput) throws -> Bool {
        var reader = ScanReader(input)
        guard reader.skip(12) else { return false }
        for _ in 0..<64 {
            guard let type = try reader.bytes(4), let size = try reader.littleEndian(4) else { return false }
            switch String(decoding: type, as: UTF8.self) {
            case "VP8L", "ANIM", "ANMF": return true
            case "VP8 ": return false
            default: guard reader.skip(size + size % 2) else { return false }
            }
        }
        return false
    }
}
