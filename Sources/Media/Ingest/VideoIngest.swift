import Foundation
import Imaging
import Video

/// How a video upload is checked and previewed: its limits and the two tools. Every limit
/// is checked from ffprobe's description before a frame is decoded.
public struct VideoIngest: Sendable {
    public struct Limits: Sendable, Equatable {
        /// MEDIA_MAX_VIDEO_BYTES (the staged file enforces it as the bytes arrive).
        public var maxBytes: Int64 = 2 << 30
        /// MEDIA_MAX_VIDEO_SECONDS.
        public var maxMilliseconds: Int64 = 4 * 3_600_000
        /// MEDIA_MAX_VIDEO_FRAME, as displayed; a portrait frame may use either orientation.
        public var maxWidth = 8192
        public var maxHeight = 8192
        /// MEDIA_MAX_VIDEO_STREAMS.
        public var maxStreams = 16

        public init() {}

        public init(maxBytes: Int64, maxMilliseconds: Int64, maxWidth: Int, maxHeight: Int, maxStreams: Int) {
            (self.maxBytes, self.maxMilliseconds) = (maxBytes, maxMilliseconds)
            (self.maxWidth, self.maxHeight, self.maxStreams) = (maxWidth, maxHeight, maxStreams)
        }
    }

    public var limits: Limits
    public var analyzer: VideoAnalyzer
    public var previewer: VideoPreviewer

    public init(limits: Limits = Limits(), analyzer: VideoAnalyzer = VideoAnalyzer(timeout: 15),
                previewer: VideoPreviewer = VideoPreviewer(timeout: 20)) {
        self.limits = limits
        self.analyzer = analyzer
        self.previewer = previewer
    }

    /// A video ready to store: what it is and its poster, thumbnail and preview.
    struct Processed {
        let analysis: VideoAnalysis
        let variants: [(MediaVariantKind, EncodedVariant)]
    }

    /// Screens the container, analyses it, checks the limits, then takes the poster frame
    /// and makes the display variants from it with the image pipeline.
    func process(_ file: StagedFile, container: VideoContainer, processor: ImageProcessor) throws -> Processed {
        let family = container.family
        let analysis = try refusing {
            try ContainerLayout.check(path: file.path, family: family, prefix: file.prefix)
            return try analyzer.analyze(path: file.path, family: family)
        }
        try check(analysis)

        let framePath = file.path + ".frame.tiff"
        defer { unlink(framePath) }
        var poster: (header: ImageHeader, variant: EncodedVariant)?
        for seconds in VideoPreviewer.seekPoints(durationMs: analysis.durationMs) {
            unlink(framePath)
            do {
                try previewer.extractFrame(path: file.path, family: family, at: seconds, to: framePath)
            } catch let error as VideoError {
                // A later point may fail where an earlier one worked (a damaged tail): keep that one.
                if poster != nil { break }
                throw IngestError.rejectedVideo(.init(error))
            }
            guard FileManager.default.fileExists(atPath: framePath) else {
                if poster != nil { break }
                throw IngestError.rejectedVideo(.undecodable("no frame could be decoded"))
            }
            let header = try posterImage { try processor.inspect(path: framePath, format: .tiff) }
            let variant = try posterImage {
                try processor.makeVariant(from: framePath, header: header, maxSide: VariantRecipe.poster.maxSide,
                                          quality: VariantRecipe.poster.quality)
            }
            poster = (header, variant)
            if variant.meanLevel >= Self.blackLevel { break }
        }
        guard let poster else { throw IngestError.rejectedVideo(.undecodable("no frame could be decoded")) }
        var variants = [(MediaVariantKind.poster, poster.variant)]
        for plan in [VariantPlan.thumbnail, .preview] {
            let variant = try posterImage {
                try processor.makeVariant(from: framePath, header: poster.header, maxSide: plan.recipe.maxSide,
                                          quality: plan.recipe.quality)
            }
            variants.append((plan.kind, variant))
        }
        return Processed(analysis: analysis, variants: variants)
    }

    /// Below this mean sample value a frame is taken for black (a fade-in, a slate) and a
    /// later point is tried.
    static let blackLevel = 16.0

    private func check(_ analysis: VideoAnalysis) throws {
        guard analysis.streamCount <= limits.maxStreams else {
            throw IngestError.rejectedVideo(.tooManyStreams(count: analysis.streamCount, limit: limits.maxStreams))
        }
        let (long, short) = (max(analysis.width, analysis.height), min(analysis.width, analysis.height))
        guard long <= max(limits.maxWidth, limits.maxHeight), short <= min(limits.maxWidth, limits.maxHeight) else {
            throw IngestError.rejectedVideo(.frameTooLarge(width: analysis.width, height: analysis.height,
                                                           maxWidth: limits.maxWidth, maxHeight: limits.maxHeight))
        }
        if let duration = analysis.durationMs, Int64(duration) > limits.maxMilliseconds {
            throw IngestError.rejectedVideo(.tooLong(durationMs: duration, limitMilliseconds: limits.maxMilliseconds))
        }
    }

    /// ffprobe's and the layout check's refusals, as ingest errors.
    private func refusing<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as VideoError {
            if case .noVideoStream(let what) = error { throw IngestError.unsupportedType("no video stream (\(what))") }
            if case .ambiguous(let what) = error { throw IngestError.unsupportedType(what) }
            throw IngestError.rejectedVideo(.init(error))
        }
    }

    /// The poster is a TIFF ffmpeg wrote: a failure to read it is ours, except a frame over
    /// the pixel limit, which the video's own frame limit should have caught.
    private func posterImage<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch ImagingError.tooManyPixels(let width, let height, _, _) {
            throw IngestError.rejectedVideo(.frameTooLarge(width: width, height: height, maxWidth: limits.maxWidth,
                                                           maxHeight: limits.maxHeight))
        } catch let error as ImagingError {
            throw IngestError.rejectedVideo(.undecodable("the poster frame cannot be read: \(error.message)"))
        }
    }
}

/// Why a video was refused after its type was accepted (422 each, 413-like limits included).
public enum VideoRefusal: Equatable, Sendable {
    case undecodable(String)
    case timedOut(tool: String, seconds: Double)
    case tooLong(durationMs: Int, limitMilliseconds: Int64)
    case frameTooLarge(width: Int, height: Int, maxWidth: Int, maxHeight: Int)
    case tooManyStreams(count: Int, limit: Int)

    init(_ error: VideoError) {
        switch error {
        case .undecodable(let detail): self = .undecodable(detail)
        case .timedOut(let tool, let seconds): self = .timedOut(tool: tool, seconds: seconds)
        case .noVideoStream(let what), .ambiguous(let what): self = .undecodable(what)
        }
    }

    public var message: String {
        switch self {
        case .undecodable(let detail): "The video is damaged or cannot be decoded (\(detail))."
        case let .timedOut(tool, seconds): "The video could not be read in time (\(tool) took more than \(seconds) s)."
        case let .tooLong(duration, limit): "The video lasts \(duration / 1000) s, more than the limit of \(limit / 1000) s."
        case let .frameTooLarge(width, height, maxWidth, maxHeight):
            "The video's frames are \(width) × \(height) pixels, more than the limit of \(maxWidth) × \(maxHeight)."
        case let .tooManyStreams(count, limit): "The video has \(count) streams, more than the limit of \(limit)."
        }
    }
}

extension VideoContainer {
    var family: ContainerFamily {
        switch self {
        case .mp4, .quicktime: .isoMedia
        case .webm, .matroska: .matroska
        }
    }

    var mimeType: String {
        switch self {
        case .mp4: "video/mp4"
        case .quicktime: "video/quicktime"
        case .webm: "video/webm"
        case .matroska: "video/x-matroska"
        }
    }

    var fileExtension: String {
        switch self {
        case .mp4: "mp4"
        case .quicktime: "mov"
        case .webm: "webm"
        case .matroska: "mkv"
        }
    }
}
