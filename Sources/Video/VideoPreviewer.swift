/// Takes a video's poster frame with ffmpeg (Active Storage's VideoPreviewer): seek to a
/// point in the file (input seeking: the demuxer jumps to the keyframe before it, so a long
/// file is not decoded whole), let the `thumbnail` filter pick the most representative of a
/// few frames there, and write it as an uncompressed TIFF for the image pipeline (raw TIFF
/// costs ffmpeg ~60 ms less per 1080p frame than PNG, and libvips reads it as fast). ffmpeg
/// applies the display rotation itself, so the frame is upright.
public struct VideoPreviewer: Sendable {
    public let ffmpeg: String
    public let timeout: Double
    /// The frame's longest side: a poster is for display, not an archive.
    public let maxSide: Int

    public init(ffmpeg: String = "/usr/bin/ffmpeg", timeout: Double, maxSide: Int = 1920) {
        self.ffmpeg = ffmpeg
        self.timeout = timeout
        self.maxSide = maxSide
    }

    /// Where to look for a poster, in order: past a typical fade-in first, later if the
    /// frame found there is (nearly) black.
    public static func seekPoints(durationMs: Int?) -> [Double] {
        guard let durationMs, durationMs > 0 else { return [0] }
        let seconds = Double(durationMs) / 1000
        return [0.25, 0.5, 0.75].map { fraction in min(seconds * fraction, 60 * fraction) }
    }

    /// Writes the frame at `seconds` to `output` (an 8-bit RGB TIFF: libvips reads no
    /// chroma-subsampled TIFF), or throws `VideoError` when
    /// decoding fails. ffmpeg may also exit 0 without writing anything (nothing decodable
    /// after the seek): the caller checks that the file exists.
    public func extractFrame(path: String, family: ContainerFamily, at seconds: Double, to output: String) throws {
        let scale = "scale=w='min(\(maxSide),iw)':h='min(\(maxSide),ih)':force_original_aspect_ratio=decrease"
        let result: ChildProcess.Output
        do {
            result = try ChildProcess.run(ffmpeg, [
                "-nostdin", "-hide_banner", "-v", "error", "-xerror", "-protocol_whitelist", "file",
                "-f", family.demuxer, "-ss", String(format3(seconds)), "-i", "file:" + path,
                "-map", "0:v:0", "-an", "-sn", "-dn", "-vf", "thumbnail=8,\(scale),format=rgb24",
                "-frames:v", "1", "-f", "image2", "-c:v", "tiff", "-compression_algo", "raw", "-y", "file:" + output,
            ], timeout: timeout)
        } catch ChildProcess.Failure.timedOut(let seconds) {
            throw VideoError.timedOut(tool: "ffmpeg", seconds: seconds)
        } catch ChildProcess.Failure.outputTooLarge {
            throw VideoError.undecodable("ffmpeg reported too many errors")
        }
        guard result.succeeded, result.stderr.isEmpty else {
            throw VideoError.undecodable(result.firstErrorLine.isEmpty ? "no frame could be decoded" : result.firstErrorLine)
        }
    }

    private func format3(_ seconds: Double) -> String {
        let millis = Int((max(0, seconds) * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
