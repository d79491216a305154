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

    /// Copies the file at `source` to `destination` a megabyte at a time (a 2 GiB video
    /// never sits in memory), through `temporary` and a rename when given; without one,
    /// `destination` is the caller's own temp file. On failure nothing is left at the target.
    static func copy(_ source: String, to destination: String, through temporary: String?) throws {
        let target = temporary ?? destination
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (temporary == nil ? O_TRUNC : O_EXCL)
        let output = open(target, flags, 0o644)
        guard output >= 0 else { throw StorageError(operation: "create", path: target, errno: errno) }
        var failure: Error?
        do {
            try readChunks(of: source) { chunk in
                let written = writeAll(output, chunk)
                if written != 0 { throw StorageError(operation: "write", path: target, errno: written) }
            }
            if fchmod(output, 0o644) != 0 || fsync(output) != 0 {
                throw StorageError(operation: "fsync", path: target, errno: errno)
            }
        } catch {
            failure = error
        }
        close(output)
        if failure == nil, let temporary, rename(temporary, destination) != 0 {
            failure = StorageError(operation: "rename", path: destination, errno: errno)
        }
        if let failure {
            unlink(target)
            throw failure
        }
        if temporary != nil { syncFolder(of: destination) }
    }

    /// The file at `path`, a megabyte at a time, to `body`.
    static func readChunks(of path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw StorageError(operation: "open", path: path, errno: errno) }
        defer { close(input) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw StorageError(operation: "read", path: path, errno: errno)
            }
            if count == 0 { return }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
    }

    /// A rename is durable only once its folder is synced.
    static func syncFolder(of path: String) {
        let fd = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
