/// What a file's first bytes say it is.
public enum SniffedType: Equatable, Sendable {
    case image(ImageFormat)
    case video(VideoContainer)
    /// Anything the service does not accept; the text names it briefly ("svg", "html",
    /// "pdf", "unknown") for error messages and logs.
    case unsupported(String)
}

/// Video containers recognised for the upload path (probed with ffprobe, not libvips).
public enum VideoContainer: String, Sendable, CaseIterable {
    case mp4, quicktime, webm, matroska

    public var mimeType: String {
        switch self {
        case .mp4: "video/mp4"
        case .quicktime: "video/quicktime"
        case .webm: "video/webm"
        case .matroska: "video/x-matroska"
        }
    }

    /// The extension of stored files, without the dot.
    public var fileExtension: String {
        switch self {
        case .mp4: "mp4"
        case .quicktime: "mov"
        case .webm: "webm"
        case .matroska: "mkv"
        }
    }
}
