import Imaging

/// Why a file was refused. Each case is the client's problem and maps to one 4xx.
public enum IngestError: Error, Equatable {
    /// More bytes than MEDIA_MAX_UPLOAD_BYTES, or MEDIA_MAX_VIDEO_BYTES for a video (413).
    case tooLarge(limit: Int64)
    /// No bytes at all (400).
    case empty
    /// Not a format the service accepts, whatever its name or Content-Type said (415).
    case unsupportedType(String)
    /// A supported format refused by libvips: too many pixels (from the header) or
    /// undecodable (422).
    case rejectedImage(ImagingError)
    /// An accepted container refused by its analysis: damaged, over a limit (422).
    case rejectedVideo(VideoRefusal)

    public var message: String {
        switch self {
        case .tooLarge(let limit): return "The file is larger than \(limit) bytes."
        case .empty: return "The file is empty."
        case .unsupportedType(let what):
            return "Unsupported file type (\(what)). Accepted images: JPEG, PNG, WebP, GIF, HEIC, AVIF and TIFF; "
                + "videos: MP4/M4V, QuickTime MOV, WebM and Matroska."
        case .rejectedImage(let error): return error.message
        case .rejectedVideo(let refusal): return refusal.message
        }
    }
}
