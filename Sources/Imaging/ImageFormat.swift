/// The raster formats the service accepts as uploads, decided by magic bytes.
public enum ImageFormat: String, Sendable, CaseIterable {
    case jpeg, png, webp, gif, heif, avif, tiff

    public var mimeType: String {
        switch self {
        case .jpeg: "image/jpeg"
        case .png: "image/png"
        case .webp: "image/webp"
        case .gif: "image/gif"
        case .heif: "image/heic"
        case .avif: "image/avif"
        case .tiff: "image/tiff"
        }
    }

    /// The extension of stored files, without the dot.
    public var fileExtension: String {
        switch self {
        case .jpeg: "jpg"
        case .heif: "heic"
        case .tiff: "tif"
        default: rawValue
        }
    }

    /// The one libvips file loader allowed to open this format. Anything else libvips
    /// might pick for the same bytes is refused, whatever the sniffer said.
    var loader: String {
        switch self {
        case .jpeg: "jpegload"
        case .png: "pngload"
        case .webp: "webpload"
        case .gif: "gifload"
        case .heif, .avif: "heifload"
        case .tiff: "tiffload"
        }
    }
}
