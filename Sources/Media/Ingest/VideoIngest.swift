import Foundation
import Imaging
import Video

/// How a video upload is checked and previewed: its limits and the two tools. Every limit
/// is checked from ffprobe's description before a frame is decoded, except the one keyframe
/// taken while ffprobe runs, which ffmpeg refuses to decode past the frame limit.
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

    public let limits: Limits
    public let analyzer: VideoAnalyzer
    public let previewer: VideoPreviewer

    public init(limits: Limits = Limits(), analyzer: VideoAnalyzer = VideoAnalyzer(timeout: 15),
                previewer: VideoPreviewer = VideoPreviewer(timeout: 20)) {
        self.limits = limits
        self.analyzer = analyzer
        var previewer = previewer
        previewer.maxPixels = limits.maxWidth * limits.maxHeight
        self.previewer = previewer
    }

    /// A video ready to store: what it is and its poster, thumbnail and preview.
    public struct Processed {
        public let analysis: VideoAnalysis
        public let variants: [(MediaVariantKind, EncodedVariant)]
    }

    /// Screens the container, analyses it, checks the limits, then takes the poster frame
    /// and makes the display variants from it with the image pipeline.
    public func process(_ file: StagedFile, container: VideoContainer, processor: ImageProcessor) throws -> Processed {
        let family = container.family
        let declaredSeconds = try refusing { try ContainerLayout.check(path: file.path, family: family, prefix: file.prefix) }
        let framePath = file.path + ".frame.tiff"
        defer { unlink(framePath) }

        // ffprobe and the first poster attempt (one keyframe, at 25% of the duration the
        // container declares) at once: ffmpeg decodes no frame over the pixel limit, and
        // is stopped if ffprobe's description, or a limit checked on it, refuses the file.
        let early = declaredSeconds.map { VideoPreviewer.attempts(videoSeconds: $0)[0] }
        let startedAt = ChildProcess.monotonicSeconds()
        let cancellation = ChildProcess.Cancellation()
        let path = file.path
        let probed = ConcurrentResults<VideoAnalysis>(count: 1), framed = ConcurrentResults<Void>(count: 1)
        DispatchQueue.concurrentPerform(iterations: early == nil ? 1 : 2) { task in
            if task == 0 {
                let result = Result {
                    let analysis = try refusing { try analyzer.analyze(path: path, family: family) }
                    try check(analysis)
                    return analysis
                }
                if case .failure = result { cancellation.cancel() }
                probed.set(0, result)
            } else if let early {
                framed.set(0, Result {
                    try previewer.extractFrame(path: path, family: family, at: early, to: framePath,
                                               timeout: previewer.timeout, cancellation: cancellation)
                })
            }
        }
        let analysis = try probed.result(0).get()
        // A failed early attempt (damage there, an odd seek) is no verdict: the search retries.
        let taken = early.flatMap { attempt in (try? framed.result(0).get()).map { (attempt, startedAt) } }

        let recipes: [(MediaVariantKind, VariantRecipe)] = [(.poster, .poster), (.thumbnail, .thumbnail), (.preview, .videoPreview)]
        let variants = try refusing {
            try previewer.poster(path: file.path, family: family, videoSeconds: analysis.videoSeconds,
                                 framePath: framePath, taken: taken) { frame in
                let made = try posterImage { try processor.makeVariants(fromFrame: frame, recipes.map(\.1)) }
                return (made, made[0].meanLevel)
            }
        }
        guard let variants else { throw IngestError.rejectedVideo(.undecodable("no frame could be decoded")) }
        return Processed(analysis: analysis, variants: Array(zip(recipes.map(\.0), variants)))
    }

    private func check(_ analysis: VideoAnalysis) throws {
        guard analysis.streamCount <= limits.maxStreams else {
            throw IngestError.rejectedVideo(.tooManyStreams(count: analysis.streamCount, limit: limits.maxStreams))
        }
        let (long, short) = (max(analysis.width, analysis.height), min(analysis.width, analysis.height))
        guard long <= max(limits.maxWidth, limits.maxHeight), short <= min(limits.maxWidth, limits.maxHeight) else {
            throw IngestError.rejectedVideo(.frameTooLarge(width: analysis.width, height: analysis.height,
                                                           maxWidth: limits.maxWidth, maxHeight: limits.maxHeight))
        }
        if let seconds = analysis.claimedSeconds, seconds * 1000 > Double(limits.maxMilliseconds) {
            throw IngestError.rejectedVideo(.tooLong(seconds: seconds, limitMilliseconds: limits.maxMilliseconds))
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

    /// The poster is a frame ffmpeg wrote: a failure to read it is ours, except a frame over
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
    case tooLong(seconds: Double, limitMilliseconds: Int64)
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
        case let .tooLong(seconds, limit):
            "The video lasts \(seconds < 1e12 ? String(Int(seconds)) : "forever") s, more than the limit of \(limit / 1000) s."
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
