/// Why an image was refused or could not be processed. Each case maps to one HTTP answer
/// in the API layer; `message` is safe to show a client, `description` adds libvips'
/// own words (which may name server paths) for the logs.
public enum ImagingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not one of the accepted raster formats (415). The text names what it is instead.
    case unsupportedFormat(String)
    /// The header declares more pixels than the configured limit (413).
    case tooManyPixels(width: Int, height: Int, pages: Int, limit: Int)
    /// Decoding would hold more memory than MEDIA_MAX_DECODE_BYTES (`DecodeFootprint`,
    /// estimated from the header), 422.
    case decodeTooLarge(neededBytes: Int, limit: Int, wholeImage: DecodeFootprint.WholeImage?)
    /// Text chunks, EXIF, XMP, ICC profiles or comments beyond MEDIA_MAX_METADATA_BYTES,
    /// found by the header scan before libvips reads them (422).
    case metadataTooLarge(limit: Int)
    /// Looks like an accepted format but cannot be decoded: truncated, damaged (422).
    case corrupt(String)
    /// A requested output size outside what the renderer makes (400).
    case invalidDimensions(width: Int, height: Int)
    /// libvips failed for a reason that is not the file's fault (500).
    case processingFailed(String)

    public var message: String {
        switch self {
        case .unsupportedFormat(let kind):
            "Unsupported file type (\(kind)). Accepted images: JPEG, PNG, WebP, GIF, HEIC, AVIF and TIFF."
        case let .tooManyPixels(width, height, pages, limit):
            "The image is too large: \(width) × \(height) pixels\(pages > 1 ? " × \(pages) pages" : "") "
                + "is more than the limit of \(megapixels(limit)) megapixels."
        case let .decodeTooLarge(needed, limit, wholeImage):
            "Decoding this image would take about \(mebibytes(needed)) MiB of memory"
                + (wholeImage.map { " (\($0.rawValue) is decoded whole)" } ?? "")
                + ", more than the limit of \(mebibytes(limit)) MiB. "
                + (wholeImage == nil ? "A narrower image fits." : "A baseline JPEG, a non-interlaced PNG or a smaller image fits.")
        case .metadataTooLarge(let limit):
            "The image carries more than \(limit) bytes of metadata (text, EXIF, XMP, ICC profiles or comments); "
                + "remove it and upload again."
        case .corrupt:
            "The image is damaged or truncated and cannot be decoded."
        case let .invalidDimensions(width, height):
            "Cannot render an image of \(width) × \(height) pixels; "
                + "each side must be \(ProceduralImage.sides.lowerBound)...\(ProceduralImage.sides.upperBound)."
        case .processingFailed:
            "The image could not be processed."
        }
    }

    public var description: String {
        switch self {
        case .corrupt(let detail), .processingFailed(let detail): "\(message) (\(detail))"
        default: message
        }
    }

    private func mebibytes(_ bytes: Int) -> Int { bytes == .max ? bytes : (bytes + (1 << 19)) >> 20 }

    private func megapixels(_ pixels: Int) -> String {
        let tenths = (pixels + 50_000) / 100_000
        return "\(tenths / 10).\(tenths % 10)"
    }
}
