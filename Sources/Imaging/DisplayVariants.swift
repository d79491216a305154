/// Everything ingest needs from one image file: its header and both display variants.
public struct DisplayVariants: Sendable {
    public let header: ImageHeader
    public let thumbnail: EncodedVariant
    public let preview: EncodedVariant
}
