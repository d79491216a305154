#if canImport(Glibc)
import Glibc
#endif

/// Takes a video's poster frame with ffmpeg (Active Storage's VideoPreviewer): seek to a
/// point in the file (input seeking: the demuxer jumps to the keyframe before it, so a long
/// file is not decoded whole), let the `thumbnail` filter pick the most representative of a
/// few frames there (`0:V`: a real video stream, never an attached cover picture), and
/// write it uncompressed for the image pipeline. ffmpeg
/// applies the display rotation itself, so the frame is upright.
public struct VideoPreviewer: Sendable {
    public let ffmpeg: String
    /// For all the runs of one upload together (a black frame is retried).
    public let timeout: Double
    /// The frame's longest side: a poster is for display, not an archive.
    public let maxSide: Int

    /// Frames larger than this are not decoded at all (ffmpeg's `max_pixels`): the frame may
    /// be taken while ffprobe is still describing the file, before its limits are checked.
    public var maxPixels: Int

    public init(ffmpeg: String = "/usr/bin/ffmpeg", timeout: Double, maxSide: Int = 1600, maxPixels: Int = 8192 * 8192) {
        self.ffmpeg = ffmpeg
        self.timeout = timeout
        self.maxSide = maxSide
        self.maxPixels = maxPixels
    }

    /// One place to take a frame from.
    public struct Attempt: Sendable {
        public let seconds: Double
        /// Decode only the keyframe at or before `seconds` (one frame: the cheapest, and
        /// a keyframe is where encoders put scene changes); else decode up to `seconds`
        /// and let the `thumbnail` filter choose among 8 frames.
        public let keyframe: Bool
    }

    /// Where to look for a poster, in order: the keyframe at or before 25% in (past a
    /// typical fade-in, at most 15 s); if that is (nearly) black, frames decoded at 25%,
    /// 50% and 75%; the very start if no later frame decodes.
    public static func attempts(videoSeconds: Double?) -> [Attempt] {
        guard let seconds = videoSeconds, seconds > 0 else { return [Attempt(seconds: 0, keyframe: false)] }
        let points = [0.25, 0.5, 0.75].map { fraction in min(seconds * fraction, 60 * fraction) }
        return [Attempt(seconds: points[0], keyframe: true)] + (points + [0]).map { Attempt(seconds: $0, keyframe: false) }
    }

    /// Writes the frame of `attempt` to `output` (uncompressed 8-bit RGB TIFF: no encoding
    /// cost, and libvips loads it straight into memory; it reads no chroma-subsampled
    /// TIFF), or throws `VideoError` when decoding fails or `timeout` (what is left of the
    /// upload's budget) runs out. ffmpeg may also exit 0 without writing anything (nothing
    /// decodable after the seek): the caller checks that the file exists.
    public func extractFrame(path: String, family: ContainerFamily, at attempt: Attempt, to output: String,
                             timeout: Double, cancellation: ChildProcess.Cancellation? = nil) throws {
        let scale = "scale=w='min(\(maxSide),iw)':h='min(\(maxSide),ih)':force_original_aspect_ratio=decrease"
        let seek = attempt.keyframe ? ["-skip_frame", "nokey", "-noaccurate_seek"] : []
        _ = try ChildProcess.runTool(ffmpeg, [
            "-nostdin", "-hide_banner", "-v", "error", "-xerror", "-protocol_whitelist", "file",
            "-max_pixels", String(maxPixels),
            "-f", family.demuxer, "-ss", String(format3(attempt.seconds))] + seek + ["-i", "file:" + path,
            "-map", "0:V:0", "-an", "-sn", "-dn", "-vf", (attempt.keyframe ? "" : "thumbnail=8,") + "\(scale),format=rgb24",
            "-frames:v", "1", "-f", "image2", "-c:v", "tiff", "-compression_algo", "raw", "-y", "file:" + output,
        ], timeout: timeout, cancellation: cancellation)
    }

    /// Below this mean sample value a frame is taken for black (a fade-in, a slate) and a
    /// later point is tried.
    public static let blackLevel = 16.0

    /// The poster: frames of `attempts` in turn, each written to `framePath` and handed
    /// to `judge` (which makes what it needs of it and says how bright it is), until one is
    /// not black; the brightest if none is. All runs share `timeout`. A point with nothing
    /// to decode after it is skipped; a decoding error ends the search (with the best so
    /// far, or as the error).
    ///
    /// `taken` is a keyframe attempt already run (while ffprobe ran) into `framePath`, at
    /// `startedAt`: it is judged first, in place of the first attempt, and its time counts.
    public func poster<Frame>(path: String, family: ContainerFamily, videoSeconds: Double?, framePath: String,
                              taken: (attempt: Attempt, startedAt: Double)? = nil,
                              judge: (String) throws -> (frame: Frame, level: Double)) throws -> Frame? {
        let deadline = (taken?.startedAt ?? ChildProcess.monotonicSeconds()) + timeout
        var best: (frame: Frame, level: Double)?
        var attempts = Self.attempts(videoSeconds: videoSeconds)
        if let taken {
            // The taken keyframe stands for the first attempt (without a duration there is
            // none: the start remains as the fallback).
            attempts = [taken.attempt] + (videoSeconds == nil ? attempts : Array(attempts.dropFirst()))
        }
        for (index, attempt) in attempts.enumerated() {
            let remaining = deadline - ChildProcess.monotonicSeconds()
            guard remaining > 0 else {
                if best != nil { break }
                throw VideoError.timedOut(tool: "ffmpeg", seconds: timeout)
            }
            do {
                if index > 0 || taken == nil {
                    unlink(framePath)
                    try extractFrame(path: path, family: family, at: attempt, to: framePath, timeout: remaining)
                }
            } catch let error as VideoError {
                if best != nil { break }
                if case .timedOut = error { throw VideoError.timedOut(tool: "ffmpeg", seconds: timeout) }
                throw error
            }
            guard access(framePath, F_OK) == 0 else { continue }
            let judged = try judge(framePath)
            if judged.level > best?.level ?? -1 { best = judged }
            if judged.level >= Self.blackLevel { break }
        }
        return best?.frame
    }

    private func format3(_ seconds: Double) -> String {
        let millis = Int((max(0, seconds) * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
