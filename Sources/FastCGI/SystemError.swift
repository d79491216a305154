#if canImport(Glibc)
import Glibc
#endif

/// A failed system call, with errno's text.
public enum SystemError: Error, CustomStringConvertible {
    case call(String, errno: Int32 = Glibc.errno)
    case message(String)

    public var description: String {
        switch self {
        case .call(let name, let code): return "\(name): \(String(cString: strerror(code)))"
        case .message(let text): return text
        }
    }
}
