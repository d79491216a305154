#if canImport(Glibc)
import Glibc
#endif

/// Writes all of `bytes` to `fd`, resuming after short writes and EINTR (a signal landing
/// mid-write truncates it). Returns 0, or the errno of the write that failed.
public func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
    guard let base = bytes.baseAddress else { return 0 }
    var written = 0
    while written < bytes.count {
        let count = write(fd, base + written, bytes.count - written)
        if count < 0 {
            if errno == EINTR { continue }
            return errno
        }
        written += count
    }
    return 0
}
