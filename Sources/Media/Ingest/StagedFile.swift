import Foundation
import Hashing
import Imaging
import ServerLog
#if canImport(Glibc)
import Glibc
#endif

/// The largest file accepted, by what its first bytes say it is.
public struct UploadLimits: Sendable, Equatable {
    /// MEDIA_MAX_UPLOAD_BYTES: images (and anything refused later anyway).
    public var imageBytes: Int64
    /// MEDIA_MAX_VIDEO_BYTES.
    public var videoBytes: Int64

    public init(imageBytes: Int64, videoBytes: Int64) {
        (self.imageBytes, self.videoBytes) = (imageBytes, videoBytes)
    }

    /// What may arrive before the type is known.
    public var largest: Int64 { max(imageBytes, videoBytes) }

    public func bytes(for type: SniffedType) -> Int64 {
        if case .video = type { return videoBytes }
        return imageBytes
    }
}

/// Incoming bytes on their way to the origin storage: a temp file beside the storage
/// root (so publishing it is a rename), hashed (SHA-256) and counted as they arrive,
/// refused past a byte limit, never whole in memory. Removed unless ingest took it.
public final class StagedFile {
    public let path: String
    public let limits: UploadLimits
    /// The limit in force: the largest until the first bytes tell the type, then that type's.
    public private(set) var limit: Int64
    public private(set) var byteCount: Int64 = 0
    /// The first bytes, for type detection by magic numbers.
    public private(set) var prefix: [UInt8] = []
    /// What the first bytes say the file is; set once they are in (or at `finish`).
    public private(set) var sniffedType: SniffedType?
    public private(set) var sha256: String?
    private var digest = SHA256()
    private var fd: Int32

    public init(directory: String, limits: UploadLimits) throws {
        path = directory + "/" + Self.namePrefix(ofProcess: getpid()) + MediaID.generate()
        self.limits = limits
        limit = limits.largest
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StorageError(operation: "create", path: path, errno: errno) }
    }

    /// Every staged file (and what ingest derives from it, a video's frame) starts with its
    /// process's prefix, so that the pool can remove a killed worker's files.
    public static func namePrefix(ofProcess pid: pid_t) -> String { "upload-\(pid)-" }

    /// Staged from bytes already in memory (generated images).
    public convenience init(directory: String, bytes: [UInt8]) throws {
        let size = Int64(bytes.count)
        try self.init(directory: directory, limits: UploadLimits(imageBytes: size, videoBytes: size))
        try bytes.withUnsafeBytes { try append($0) }
        try finish()
    }

    deinit {
        if fd >= 0 { close(fd) }
        unlink(path)
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        if sniffedType == nil {
            prefix += bytes.prefix(MediaTypeSniffer.prefixLength - prefix.count)
            if prefix.count == MediaTypeSniffer.prefixLength { sniff() }
        }
        guard byteCount + Int64(bytes.count) <= limit else { throw IngestError.tooLarge(limit: limit) }
        digest.update(bytes)
        let failure = writeAll(fd, bytes)
        guard failure == 0 else { throw StorageError(operation: "write", path: path, errno: failure) }
        byteCount += Int64(bytes.count)
    }

    private func sniff() {
        let type = MediaTypeSniffer.detect(prefix: prefix)
        sniffedType = type
        limit = limits.bytes(for: type)
    }

    /// Closes the file and fixes the checksum and the type.
    public func finish() throws {
        guard fd >= 0 else { return }
        if sniffedType == nil {
            sniff()
            guard byteCount <= limit else { throw IngestError.tooLarge(limit: limit) }
        }
        let result = close(fd)
        fd = -1
        guard result == 0 else { throw StorageError(operation: "close", path: path, errno: errno) }
        var finished = SHA256()
        swap(&finished, &digest)
        sha256 = finished.finalizeHex()
    }
}
