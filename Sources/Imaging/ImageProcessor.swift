import CVips
import Foundation

/// Turns an uploaded (or generated) image file into display variants with libvips.
/// Every check that can be made from the header runs before any pixel is decoded.
/// Stateless and thread-safe: one processor can serve every thread of a worker.
public struct ImageProcessor: Sendable {
    /// The most pixels (width × height × pages) a file may declare.
    public let maxPixels: Int
    /// The most bytes of metadata (text, EXIF, XMP, ICC, comments) a file may carry.
    public let maxMetadataBytes: Int

    /// The most memory making its variants may hold (`DecodeFootprint`, from the header).
    public let maxDecodeBytes: Int

    public init(maxPixels: Int, maxMetadataBytes: Int = 1 << 20, maxDecodeBytes: Int = 60 << 20) {
        self.maxPixels = maxPixels
        self.maxMetadataBytes = maxMetadataBytes
        self.maxDecodeBytes = maxDecodeBytes
    }

    /// Reads the file's header: detects the format from its magic bytes, bounds its metadata
    /// (`MetadataScan`) before libvips reads any, requires the
    /// loader libvips picks to be the allow-listed one for that format, and refuses
    /// files that declare more than `maxPixels` or whose decode would hold more than
    /// `maxDecodeBytes`. Decodes no pixels. `format` is what the
    /// caller already sniffed from the same bytes (ingest does so first), else it is sniffed here.
    public func inspect(path: String, format sniffed: ImageFormat? = nil) throws -> ImageHeader {
        try Vips.initialize()
        try requireLiteralPath(path)
        let format = try sniffed ?? sniffedFormat(path: path)
        var webpCanvas = false
        try scanning(path) { input in
            try MetadataScan.measure(input, format: format, limit: maxMetadataBytes)
            if format == .webp { webpCanvas = try DecodeFootprint.decodesWholeWebPCanvas(input) }
        }
        guard let loaderName = media_vips_find_loader(path) else {
            throw ImagingError.corrupt("no libvips loader accepts this \(format.rawValue) file: \(Vips.takeError())")
        }
        let loader = String(cString: loaderName)
        guard loader == format.loader else {
            throw ImagingError.unsupportedFormat("\(format.rawValue) read by \(loader)")
        }
        guard let image = VipsImageHandle(media_vips_open_header(path)) else {
            throw ImagingError.corrupt("unreadable \(format.rawValue) header: \(Vips.takeError())")
        }
        let header = ImageHeader(format: format, loader: loader, width: image.width, height: image.height,
                                 pages: image.pages, orientation: image.orientation,
                                 hasColorProfile: image.hasColorProfile)
        try requireWithinPixelLimit(header)
        let footprint = DecodeFootprint(format: format, width: image.width, height: image.height, bands: image.bands,
                                        bytesPerBand: image.bytesPerBand, interlaced: image.isInterlaced,
                                        subsampledChroma: image.hasSubsampledChroma, webpCanvas: webpCanvas)
        guard footprint.bytes <= maxDecodeBytes else {
            throw ImagingError.decodeTooLarge(neededBytes: footprint.bytes, limit: maxDecodeBytes,
                                              wholeImage: footprint.wholeImage)
        }
        return header
    }

    /// Makes one WebP variant of the first page or frame, fitting `maxSide` × `maxSide`:
    /// auto-rotated, sRGB, without EXIF/XMP/IPTC/ICC metadata, never upscaled. `header`
    /// is what `inspect` answered for the same file. The bytes are returned, not written:
    /// the caller's storage adapter decides where they go.
    public func makeVariant(from path: String, header: ImageHeader, maxSide: Int, quality: Int) throws -> EncodedVariant {
        precondition((1...16383).contains(maxSide), "WebP sides are at most 16383 pixels")
        precondition((1...100).contains(quality), "WebP quality is 1...100")
        try Vips.initialize()
        try requireLiteralPath(path)
        try requireWithinPixelLimit(header)
        // A thumbnail image can be written once, so each variant gets its own.
        let thumbnailed = media_vips_thumbnail(path, Int32(maxSide), header.hasColorProfile ? 1 : 0)
        guard let thumbnail = VipsImageHandle(thumbnailed) else {
            throw ImagingError.corrupt("cannot decode \(header.format.rawValue): \(Vips.takeError())")
        }
        return try encode(thumbnail, VariantRecipe(maxSide: maxSide, quality: quality), source: header.format.rawValue)
    }

    /// Variants of a video frame that ffmpeg wrote as an uncompressed TIFF: the frame is decoded
    /// once, then each recipe is made from it in memory.
    public func makeVariants(fromFrame path: String, _ recipes: [VariantRecipe]) throws -> [EncodedVariant] {
        try Vips.initialize()
        try requireLiteralPath(path)
        guard let frame = VipsImageHandle(media_vips_load_frame(path)) else {
            throw ImagingError.corrupt("cannot read the video frame: \(Vips.takeError())")
        }
        try requireWithinPixelLimit(ImageHeader(format: .tiff, loader: "tiffload", width: frame.width, height: frame.height,
                                                pages: 1, orientation: 1, hasColorProfile: false))
        // Concurrently: the frame is read-only and each pipeline is its own, so the WebP
        // preview does not wait behind the others (an upload's latency is mostly tools and
        // encoders, and the worker has nothing else to do meanwhile).
        let results = ConcurrentResults<EncodedVariant>(count: recipes.count)
        DispatchQueue.concurrentPerform(iterations: recipes.count) { index in
            results.set(index, Result {
                guard let thumbnail = VipsImageHandle(media_vips_thumbnail_image(frame.pointer, Int32(recipes[index].maxSide))) else {
                    throw ImagingError.processingFailed("cannot resize the video frame: \(Vips.takeError())")
                }
                return try encode(thumbnail, recipes[index], source: "video frame")
            })
        }
        return try results.values()
    }

    /// Decodes a thumbnail's pixels, strips its metadata and encodes it as WebP or JPEG.
    private func encode(_ thumbnail: VipsImageHandle, _ recipe: VariantRecipe, source: String) throws -> EncodedVariant {
        // Pixels are decoded here, so damage in the data (fail_on) surfaces here.
        guard let decoded = VipsImageHandle(media_vips_decode(thumbnail.pointer)) else {
            throw ImagingError.corrupt("cannot decode \(source): \(Vips.takeError())")
        }
        guard let stripped = VipsImageHandle(media_vips_without_metadata(decoded.pointer)) else {
            throw ImagingError.processingFailed("cannot copy image: \(Vips.takeError())")
        }
        var meanLevel = 0.0
        guard media_vips_average(stripped.pointer, &meanLevel) == 0 else {
            throw ImagingError.processingFailed("cannot measure image: \(Vips.takeError())")
        }
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        if recipe.format == .jpeg {
            guard media_vips_jpeg_save(stripped.pointer, Int32(recipe.quality), &buffer, &length) == 0, let buffer else {
                throw ImagingError.processingFailed("cannot encode JPEG: \(Vips.takeError())")
            }
            defer { media_vips_free(buffer) }
            return EncodedVariant(format: .jpeg, width: stripped.width, height: stripped.height,
                                  bytes: Array(UnsafeRawBufferPointer(start: buffer, count: length)), meanLevel: meanLevel)
        }
        guard media_vips_webp_save(stripped.pointer, Int32(recipe.quality), Int32(recipe.effort), &buffer, &length) == 0,
              let buffer else {
            throw ImagingError.processingFailed("cannot encode WebP: \(Vips.takeError())")
        }
        defer { media_vips_free(buffer) }
        guard let bytes = WebPContainer.removingMetadata(from: Array(UnsafeRawBufferPointer(start: buffer, count: length))) else {
            throw ImagingError.processingFailed("libvips wrote a malformed WebP")
        }
        return EncodedVariant(format: .webp, width: stripped.width, height: stripped.height, bytes: bytes,
                              meanLevel: meanLevel)
    }

    /// Inspects the file and makes the thumbnail and preview variants from it.
    public func makeDisplayVariants(from path: String) throws -> DisplayVariants {
        let header = try inspect(path: path)
        func make(_ recipe: VariantRecipe) throws -> EncodedVariant {
            try makeVariant(from: path, header: header, maxSide: recipe.maxSide, quality: recipe.quality)
        }
        return DisplayVariants(header: header, thumbnail: try make(.thumbnail), preview: try make(.preview))
    }

    // MARK: Checks

    private func sniffedFormat(path: String) throws -> ImageFormat {
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw ImagingError.processingFailed("cannot open \(path)")
        }
        defer { try? file.close() }
        let prefix: Data
        do {
            prefix = try file.read(upToCount: MediaTypeSniffer.prefixLength) ?? Data()
        } catch {
            throw ImagingError.processingFailed("cannot read \(path): \(error)")
        }
        switch MediaTypeSniffer.detect(prefix: Array(prefix)) {
        case .image(let format): return format
        case .video(let container): throw ImagingError.unsupportedFormat("\(container.rawValue) video")
        case .unsupported(let kind): throw ImagingError.unsupportedFormat(kind)
        }
    }

    /// libvips reads a trailing "[...]" in a file name as load options.
    private func requireLiteralPath(_ path: String) throws {
        guard !path.hasSuffix("]") else {
            throw ImagingError.processingFailed("image paths must not end in ']': \(path)")
        }
    }

    /// Runs the header scans over the file, opened once, before libvips opens it (libvips
    /// reads every metadata block whole).
    private func scanning(_ path: String, _ body: (ScanInput) throws -> Void) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ImagingError.processingFailed("cannot open \(path)") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw ImagingError.processingFailed("cannot stat \(path)") }
        try body(.file(descriptor: descriptor, size: Int(status.st_size)))
    }

    private func requireWithinPixelLimit(_ header: ImageHeader) throws {
        let (area, areaOverflow) = header.width.multipliedReportingOverflow(by: header.height)
        let (pixels, pixelsOverflow) = area.multipliedReportingOverflow(by: header.pages)
        guard !areaOverflow, !pixelsOverflow, pixels <= maxPixels else {
            throw ImagingError.tooManyPixels(width: header.width, height: header.height,
                                             pages: header.pages, limit: maxPixels)
        }
    }
}
