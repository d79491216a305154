/// What ffprobe found in a video file, reduced to what the service stores and checks.
public struct VideoAnalysis: Equatable, Sendable {
    /// Width and height as displayed: the coded size turned by the rotation.
    public let width: Int
    public let height: Int
    /// Clockwise quarter turns a player applies (0, 90, 180, 270).
    public let rotation: Int
    /// What is stored: the file's duration, nil when the container does not say (a
    /// live-recorded WebM) or claims more than an INT column holds.
    public let durationMs: Int?
    /// The longest duration the file claims (container or video stream), in seconds,
    /// for the limit: a claim too large to store must still be refused.
    public let claimedSeconds: Double?
    /// The video stream's own duration, where the poster is looked for (audio may run on
    /// after the picture ends).
    public let videoSeconds: Double?
    /// The first video stream's codec, as ffmpeg names it ("h264", "vp9").
    public let videoCodec: String
    /// Average frames per second, rounded to 3 decimals; nil when unknown.
    public let frameRate: Double?
    /// The first audio stream's codec, nil without audio.
    public let audioCodec: String?
    /// The whole file's bits per second, when the container says.
    public let bitRate: Int?
    /// Every stream of the file (video, audio, subtitles, data, attachments).
    public let streamCount: Int

    public var hasAudio: Bool { audioCodec != nil }
}

/// The two container families the service accepts, each with ffmpeg's demuxer forced:
/// a file is never read by a demuxer it did not sniff as (no HLS, concat, image2…).
public enum ContainerFamily: Sendable {
    case isoMedia, matroska

    /// The demuxer's full name as ffmpeg registers it (the commas are part of the name).
    public var demuxer: String {
        switch self {
        case .isoMedia: "mov,mp4,m4a,3gp,3g2,mj2"
        case .matroska: "matroska,webm"
        }
    }
}

/// Why a video was refused; each case is the client's problem.
public enum VideoError: Error, Equatable, Sendable {
    /// A container without a video stream: audio only, attachments only (415).
    case noVideoStream(String)
    /// ffprobe or ffmpeg could not read it: truncated, damaged, a codec ffmpeg lacks (422).
    case undecodable(String)
    /// A video that is also something else: a ZIP archive, an HTML page (415).
    case ambiguous(String)
    /// The tool ran past its time limit on this file (422).
    case timedOut(tool: String, seconds: Double)
}
