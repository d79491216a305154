#if canImport(Glibc)
import Glibc
#endif

/// Where the pool listens: a unix socket (the default, next to nginx) or a loopback port.
public enum ListenAddress: Equatable, Sendable, CustomStringConvertible {
    case unix(path: String)
    case tcp(port: UInt16)

    /// `/path/to.sock`, `unix:/path`, or `tcp:127.0.0.1:PORT` (loopback only: FastCGI has
    /// no authentication, so it must never face a network).
    public init(parsing text: String) throws {
        if text.hasPrefix("tcp:") {
            let rest = text.dropFirst(4)
            guard let colon = rest.lastIndex(of: ":"), rest[..<colon] == "127.0.0.1",
                  let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else {
                throw SystemError.message("expected tcp:127.0.0.1:PORT (loopback only), got \(text)")
            }
            self = .tcp(port: port)
            return
        }
        let path = text.hasPrefix("unix:") ? String(text.dropFirst(5)) : text
        guard path.hasPrefix("/"), path.utf8.count < 108 else {
            throw SystemError.message("a unix socket path must be absolute and under 108 bytes, got \(text)")
        }
        self = .unix(path: path)
    }

    public var description: String {
        switch self {
        case .unix(let path): return "unix:\(path)"
        case .tcp(let port): return "tcp:127.0.0.1:\(port)"
        }
    }
}

/// The pool's listening socket, bound by the supervisor and inherited by every worker.
/// We bind it ourselves: `FCGX_OpenSocket` calls exit() on failure and does not chmod.
public struct ListenSocket: Sendable {
    public let fileDescriptor: Int32
    public let address: ListenAddress

    public static func bind(_ address: ListenAddress, mode: mode_t, backlog: Int32) throws -> ListenSocket {
        switch address {
        case .unix(let path):
            try removeStaleSocket(at: path)
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw SystemError.call("socket") }
            var addr = unixAddress(path)
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard bound == 0 else { let e = SystemError.call("bind \(path)"); close(fd); throw e }
            guard chmod(path, mode) == 0 else { let e = SystemError.call("chmod \(path)"); close(fd); throw e }
            guard listen(fd, backlog) == 0 else { let e = SystemError.call("listen"); close(fd); throw e }
            return ListenSocket(fileDescriptor: moveAboveStandardDescriptors(fd), address: address)
        case .tcp(let port):
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw SystemError.call("socket") }
            var yes: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else { let e = SystemError.call("bind 127.0.0.1:\(port)"); close(fd); throw e }
            guard listen(fd, backlog) == 0 else { let e = SystemError.call("listen"); close(fd); throw e }
            return ListenSocket(fileDescriptor: moveAboveStandardDescriptors(fd), address: address)
        }
    }

    /// Removes the socket file (unix sockets) after the pool stopped.
    public func unlinkPath() {
        if case .unix(let path) = address { unlink(path) }
    }

    /// Whether `fd` is a listening stream socket (how a worker started by spawn-fcgi or
    /// systemd recognises the socket it was given).
    public static func isListening(_ fd: Int32) -> Bool {
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0 && accepting != 0
    }

    /// Refuses a socket a live server still answers on; removes one nobody answers (a
    /// crashed pool's leftover).
    static func removeStaleSocket(at path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw SystemError.message("\(path) exists and is not a socket; refusing to replace it")
        }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(probe) }
        var addr = unixAddress(path)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if connected == 0 {
            throw SystemError.message("another server is listening on \(path); stop it first")
        }
        unlink(path)
    }

    static func unixAddress(_ path: String) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        copyCString(path, into: &addr.sun_path)
        return addr
    }
}

/// Moves a CLOEXEC descriptor to 10 or above, so that mapping it onto a worker's fd 0 or 3
/// never meets itself (dup2 onto the same number would keep CLOEXEC set).
func moveAboveStandardDescriptors(_ fd: Int32) -> Int32 {
    guard fd < 10 else { return fd }
    let moved = fcntl(fd, F_DUPFD_CLOEXEC, 10)
    guard moved >= 0 else { return fd }
    close(fd)
    return moved
}
