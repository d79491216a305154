/// How one kind of variant is made: the longest side it may have, its encoding and quality.
public struct VariantRecipe: Equatable, Sendable {
    public let maxSide: Int
    public let quality: Int
    /// WebP or JPEG.
    public let format: ImageFormat
    /// WebP encoder effort (0...6).
    public let effort: Int

    public init(maxSide: Int, quality: Int, format: ImageFormat = .webp, effort: Int = 4) {
        self.maxSide = maxSide
        self.quality = quality
        self.format = format
        self.effort = effort
    }

    /// Library grids and cards.
    public static let thumbnail = VariantRecipe(maxSide: 320, quality: 80)
    /// Detail views and lightboxes.
    public static let preview = VariantRecipe(maxSide: 1600, quality: 82)
    /// A video's representative frame, for `<video poster>`: JPEG, which every player
    /// takes and which encodes several times faster than WebP; the preview's size, so
    /// ffmpeg scales the frame once and libvips resamples it only for the thumbnail.
    public static let poster = VariantRecipe(maxSide: 1600, quality: 85, format: .jpeg)
    /// A video's preview, from the poster frame: WebP effort 2 encodes it ~35% faster than
    /// the default for ~5% more bytes, and a video upload waits on it.
    public static let videoPreview = VariantRecipe(maxSide: 1600, quality: 82, effort: 2)
}
