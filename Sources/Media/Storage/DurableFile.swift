import Foundation
import ServerLog
#if canImport(Glibc)
import Glibc
#endif

/// Writing a file so that readers see all of it or none, and it survives a crash: a temp
/// file, fsync, rename over the destination, fsync of the folder.
enum DurableFile {
    /// Writes `bytes` to `temporary` (created, 0644), then renames it to `destination`.
    /// On any failure the temp file is removed and the destination is untouched.
    static func write(_ bytes: [UInt8], to destination: String, through temporary: String) throws {
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError(operation: "create", path: temporary, errno: errno) }
        var failure: StorageError?
        let written = bytes.withUnsafeBytes { writeAll(fd, $0) }
        if written != 0 { failure = StorageError(operation: "write", path: temporary, errno: written) }
        // fchmod: the umask must not make a stored file unreadable to nginx.
        if failure == nil, fchmod(fd, 0o644) != 0 || fsync(fd) != 0 {
            failure = StorageError(operation: "fsync", path: temporary, errno: errno)
        }
        close(fd)
        if failure == nil, rename(temporary, destination) != 0 {
            failure = StorageError(operation: "rename", path: destination, errno: errno)
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
        syncFolder(of: destination)
    }

    /// A rename is durable only once its folder is synced.
    static func syncFolder(of path: String) {
        let fd = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
