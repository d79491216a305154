/// `MediaAsset.metadata` (Json?): facts of a file the Prisma model has no column for.
/// Written by ingest; read leniently, since the Node app may store its own keys there.
public struct AssetMetadata: Codable, Equatable, Sendable {
    public var video: VideoMetadata?

    public init(video: VideoMetadata?) {
        self.video = video
    }

    /// From the column's parsed JSON; nil unless it is an object (a `video` key that is
    /// not a video's facts reads as no video).
    init?(jsonObject: Any) {
        guard let object = jsonObject as? [String: Any] else { return nil }
        video = (object["video"] as? [String: Any]).flatMap(VideoMetadata.init(jsonObject:))
    }
}

/// What a player needs to know about a video before loading it.
public struct VideoMetadata: Codable, Equatable, Sendable {
    /// ffmpeg's codec names: "h264", "hevc", "vp9", "av1"; "aac", "opus".
    public var codec: String
    public var frameRate: Double?
    public var hasAudio: Bool
    public var audioCodec: String?
    /// Bits per second of the whole file.
    public var bitRate: Int?
    /// The clockwise turn a player applies to the coded frames (width and height are
    /// already as displayed).
    public var rotation: Int

    public init(codec: String, frameRate: Double?, hasAudio: Bool, audioCodec: String?, bitRate: Int?, rotation: Int) {
        (self.codec, self.frameRate, self.hasAudio) = (codec, frameRate, hasAudio)
        (self.audioCodec, self.bitRate, self.rotation) = (audioCodec, bitRate, rotation)
    }

    init?(jsonObject object: [String: Any]) {
        guard let codec = object["codec"] as? String, let hasAudio = object["hasAudio"] as? Bool,
              let rotation = object["rotation"] as? Int else { return nil }
        self.init(codec: codec, frameRate: object["frameRate"] as? Double, hasAudio: hasAudio,
                  audioCodec: object["audioCodec"] as? String, bitRate: object["bitRate"] as? Int, rotation: rotation)
    }
}
