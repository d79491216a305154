/// One re-encoded rendition of an image (thumbnail, preview), held in memory: variants
/// are small, and the storage adapter writes them atomically wherever they belong.
public struct EncodedVariant: Sendable {
    public let format: ImageFormat
    public let width: Int
    public let height: Int
    public let bytes: [UInt8]
    /// The mean sample value of the pixels encoded (0...255): tells a black frame.
    public let meanLevel: Double

    public var byteCount: Int { bytes.count }
}
