/// What an image file declares about itself, read from its header without decoding any
/// pixels. Only `ImageProcessor.inspect` makes one, after the loader and pixel checks,
/// so holding a header means the file passed them.
public struct ImageHeader: Equatable, Sendable {
    public let format: ImageFormat
    /// The libvips loader that will decode it ("jpegload", "heifload", ...).
    public let loader: String
    /// Stored size of one page, before EXIF orientation is applied.
    public let width: Int
    public let height: Int
    /// Frames of a GIF, pages of a TIFF, top-level images of a HEIF; 1 for most files.
    public let pages: Int
    /// EXIF orientation 1...8; 5...8 turn the image a quarter.
    public let orientation: Int
    /// Whether the file embeds an ICC profile its pixels must be converted from.
    public let hasColorProfile: Bool

    /// The size as displayed, after auto-rotation (what variants are made from).
    public var uprightWidth: Int { orientation >= 5 ? height : width }
    public var uprightHeight: Int { orientation >= 5 ? width : height }
}
