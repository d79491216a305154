/// How one kind of variant is made: the longest side it may have and its WebP quality.
public struct VariantRecipe: Equatable, Sendable {
    public let maxSide: Int
    public let quality: Int

    public init(maxSide: Int, quality: Int) {
        self.maxSide = maxSide
        self.quality = quality
    }

    /// Library grids and cards.
    public static let thumbnail = VariantRecipe(maxSide: 320, quality: 80)
    /// Detail views and lightboxes.
    public static let preview = VariantRecipe(maxSide: 1600, quality: 82)
    /// A video's representative frame, for `<video poster>`.
    public static let poster = VariantRecipe(maxSide: 1920, quality: 82)
}
