#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Hashing

/// A file to upload, open once: its size is taken at the start, and each part is read
/// whole at its offset, so a file that shrinks meanwhile is an error, not a short object.
final class LocalFile: @unchecked Sendable {  // immutable; pread needs no lock
    let path: String
    let size: Int64
    private let descriptor: Int32

    init(readingAt path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw S3Error.localFile("cannot open \(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw S3Error.localFile("\(path) is not a regular file")
        }
        size = Int64(info.st_size)
    }

    deinit { close(descriptor) }

    /// Exactly `count` bytes from `offset`.
    func read(offset: Int64, count: Int) throws -> Data {
        var data = Data(count: count)
        try data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
            guard let base = buffer.baseAddress else { return }
            var filled = 0
            while filled < count {
                let got = pread(descriptor, base + filled, count - filled, off_t(offset) + off_t(filled))
                if got < 0 && errno == EINTR { continue }
                guard got >= 0 else { throw S3Error.localFile("cannot read \(path): \(String(cString: strerror(errno)))") }
                guard got > 0 else {
                    throw S3Error.localFile("\(path) ended at \(offset + Int64(filled)) of \(size) bytes: it changed during the upload")
                }
                filled += got
            }
        }
        return data
    }

    /// The whole file's SHA-256, read in 1 MiB chunks.
    func sha256Hex() throws -> String {
        var digest = SHA256()
        var offset: Int64 = 0
        while offset < size {
            let chunk = try read(offset: offset, count: Int(min(1 << 20, size - offset)))
            chunk.withUnsafeBytes { digest.update($0) }
            offset += Int64(chunk.count)
        }
        return digest.finalizeHex()
    }
}
