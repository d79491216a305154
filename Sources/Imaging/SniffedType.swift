/// What a file's first bytes say it is.
public enum SniffedType: Equatable, Sendable {
    case image(ImageFormat)
    case video(VideoContainer)
    /// Anything the service does not accept; the text names it briefly ("svg", "html",
    /// "pdf", "unknown") for error messages and logs.
    case unsupported(String)
}

/// Video containers recognised by their magic bytes (video upload is not enabled yet:
/// ingest refuses them with a clear message).
public enum VideoContainer: String, Sendable, CaseIterable {
    case mp4, quicktime, webm, matroska
}
