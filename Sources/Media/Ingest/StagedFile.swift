import Foundation
import Hashing
import Imaging
import ServerLog
#if canImport(Glibc)
import Glibc
#endif

/// Incoming bytes on their way to the origin storage: a temp file beside the storage
/// root (so publishing it is a rename), hashed (SHA-256) and counted as they arrive,
/// refused past a byte limit, never whole in memory. Removed unless ingest took it.
public final class StagedFile {
    public let path: String
    public let limit: Int64
    public private(set) var byteCount: Int64 = 0
    /// The first bytes, for type detection by magic numbers.
    public private(set) var prefix: [UInt8] = []
    public private(set) var sha256: String?
    private var digest = SHA256()
    private var fd: Int32

    public init(directory: String, limit: Int64) throws {
        path = directory + "/upload-" + MediaID.generate()
        self.limit = limit
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StorageError(operation: "create", path: path, errno: errno) }
    }

    /// Staged from bytes already in memory (generated images).
    public convenience init(directory: String, bytes: [UInt8]) throws {
        try self.init(directory: directory, limit: Int64(bytes.count))
        try bytes.withUnsafeBytes { try append($0) }
        try finish()
    }

    deinit {
        if fd >= 0 { close(fd) }
        unlink(path)
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        guard byteCount + Int64(bytes.count) <= limit else { throw IngestError.tooLarge(limit: limit) }
        if prefix.count < MediaTypeSniffer.prefixLength {
            prefix += bytes.prefix(MediaTypeSniffer.prefixLength - prefix.count)
        }
        digest.update(bytes)
        let failure = writeAll(fd, bytes)
        guard failure == 0 else { throw StorageError(operation: "write", path: path, errno: failure) }
        byteCount += Int64(bytes.count)
    }

    /// Closes the file and fixes the checksum.
    public func finish() throws {
        guard fd >= 0 else { return }
        let result = close(fd)
        fd = -1
        guard result == 0 else { throw StorageError(operation: "close", path: path, errno: errno) }
        var finished = SHA256()
        swap(&finished, &digest)
        sha256 = finished.finalizeHex()
    }
}
