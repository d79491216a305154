import Foundation

/// Reads a video's facts with ffprobe (Active Storage's VideoAnalyzer): the demuxer
/// forced to the sniffed family, only the `file` protocol (no network, no other file
/// through a playlist or reference), under a time limit, JSON parsed here.
public struct VideoAnalyzer: Sendable {
    public let ffprobe: String
    public let timeout: Double

    public init(ffprobe: String = "/usr/bin/ffprobe", timeout: Double) {
        self.ffprobe = ffprobe
        self.timeout = timeout
    }

    public func analyze(path: String, family: ContainerFamily) throws -> VideoAnalysis {
        let output = try ChildProcess.runTool(ffprobe, [
            "-v", "error", "-protocol_whitelist", "file", "-f", family.demuxer,
            "-print_format", "json", "-show_streams", "-show_format", "file:" + path,
        ], timeout: timeout)
        return try Self.analysis(ffprobeJSON: output.stdout)
    }

    /// The analysis from ffprobe's `-show_streams -show_format` JSON.
    public static func analysis(ffprobeJSON bytes: [UInt8]) throws -> VideoAnalysis {
        let probe: Probe
        do {
            probe = try JSONDecoder().decode(Probe.self, from: Data(bytes))
        } catch {
            throw VideoError.undecodable("unreadable ffprobe output")
        }
        let streams = probe.streams ?? []
        // Cover art in an audio file is a "video" stream too: a still, not a video.
        guard let video = streams.first(where: { $0.codec_type == "video" && $0.disposition?.attached_pic != 1 }) else {
            let kinds = Set(streams.compactMap(\.codec_type)).sorted()
            throw VideoError.noVideoStream(kinds.isEmpty ? "no streams" : kinds.joined(separator: ", ") + " only")
        }
        guard let codedWidth = video.width, let codedHeight = video.height, codedWidth > 0, codedHeight > 0 else {
            throw VideoError.undecodable("the video stream has no frame size")
        }
        let rotation = video.rotation
        let turned = rotation % 180 != 0
        let (fileSeconds, streamSeconds) = (try seconds(probe.format?.duration), try seconds(video.duration))
        let claimed = [fileSeconds, streamSeconds].compactMap { $0 }.max()
        let stored = (fileSeconds ?? streamSeconds).flatMap { $0 * 1000 < Double(Int32.max) ? Int(($0 * 1000).rounded()) : nil }
        return VideoAnalysis(
            width: turned ? codedHeight : codedWidth, height: turned ? codedWidth : codedHeight,
            rotation: rotation,
            durationMs: stored, claimedSeconds: claimed, videoSeconds: streamSeconds ?? fileSeconds,
            videoCodec: video.codec_name ?? "unknown",
            frameRate: frameRate(video.avg_frame_rate) ?? frameRate(video.r_frame_rate),
            audioCodec: streams.first(where: { $0.codec_type == "audio" }).map { $0.codec_name ?? "unknown" },
            bitRate: probe.format?.bit_rate.flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil },
            streamCount: max(probe.format?.nb_streams ?? 0, streams.count))
    }

    /// "2.040000" → 2.04; nil when absent or "N/A"; a negative or non-numeric claim is a
    /// damaged file.
    static func seconds(_ text: String?) throws -> Double? {
        guard let text, text != "N/A" else { return nil }
        guard let value = Double(text), value.isFinite, value >= 0 else {
            throw VideoError.undecodable("implausible duration \(text.prefix(40))")
        }
        return value
    }

    /// "30000/1001" → 29.97; nil for "0/0" or anything malformed.
    static func frameRate(_ ratio: String?) -> Double? {
        guard let parts = ratio?.split(separator: "/"), parts.count == 2,
              let numerator = Double(parts[0]), let denominator = Double(parts[1]), denominator > 0 else { return nil }
        let rate = numerator / denominator
        guard rate.isFinite, rate > 0, rate < 10_000 else { return nil }
        return (rate * 1000).rounded() / 1000
    }

    // The parts of ffprobe's JSON that are read; ffprobe's own field names.
    private struct Probe: Decodable {
        let streams: [Stream]?
        let format: Format?
    }

    private struct Format: Decodable {
        let duration: String?
        let bit_rate: String?
        let nb_streams: Int?
    }

    private struct Stream: Decodable {
        let codec_type: String?
        let codec_name: String?
        let width: Int?
        let height: Int?
        let avg_frame_rate: String?
        let r_frame_rate: String?
        let duration: String?
        let disposition: Disposition?
        let tags: [String: String]?
        let side_data_list: [SideData]?

        /// The display matrix's rotation (ffmpeg ≥ 5 reports it counter-clockwise, e.g.
        /// -90 for a portrait phone video), else the legacy `rotate` tag (clockwise).
        var rotation: Int {
            let degrees = side_data_list?.lazy.compactMap(\.rotation).first.map { -$0 }
                ?? tags?["rotate"].flatMap { Double($0) } ?? 0
            guard degrees.isFinite, abs(degrees) < 1e6 else { return 0 }
            let quarter = Int((degrees / 90).rounded()) % 4
            return (quarter + 4) % 4 * 90
        }
    }

    private struct Disposition: Decodable {
        let attached_pic: Int?
    }

    private struct SideData: Decodable {
        let rotation: Double?
    }
}
