import CChildProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A command-line tool (ffprobe, ffmpeg) run to completion under a time limit. The tool
/// gets no stdin, no inherited descriptors and a minimal environment; its output is
/// collected up to a bound; past the deadline it is killed and reaped, so neither a
/// zombie nor a busy orphan is left. It also dies if the worker does (PR_SET_PDEATHSIG).
public enum ChildProcess {
    public struct Output: Sendable {
        /// The exit code, or nil if the tool died by a signal.
        public let exitCode: Int32?
        public let stdout: [UInt8]
        public let stderr: [UInt8]

        public var succeeded: Bool { exitCode == 0 }
        /// The first line the tool wrote to stderr, for errors and logs.
        public var firstErrorLine: String {
            let line = stderr.split(separator: UInt8(ascii: "\n")).first ?? []
            return String(decoding: line.prefix(300), as: UTF8.self)
        }
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The tool could not be started (missing binary, no resources).
        case spawnFailed(String, errno: Int32)
        /// Still running at the deadline: killed and reaped.
        case timedOut(seconds: Double)
        /// Wrote more than the bound on stdout or stderr: killed and reaped.
        case outputTooLarge(bytes: Int)
        /// Its result was no longer wanted (`Cancellation.cancel()`): killed and reaped.
        case cancelled

        public var description: String {
            switch self {
            case let .spawnFailed(path, code): "cannot start \(path): \(String(cString: strerror(code)))"
            case .timedOut(let seconds): "did not finish within \(seconds) s"
            case .outputTooLarge(let bytes): "wrote more than \(bytes) bytes of output"
            case .cancelled: "cancelled"
            }
        }
    }

    /// Set from another thread to stop a run early (the tool is killed within ~50 ms).
    public final class Cancellation: @unchecked Sendable {
        private let lock = NSLock()
        private var cancelled = false

        public init() {}
        public func cancel() { lock.withLock { cancelled = true } }
        public var isCancelled: Bool { lock.withLock { cancelled } }
    }

    /// Runs `executable` (an absolute path) with `arguments`. Blocks the calling thread;
    /// a pool signal still reaches the worker meanwhile (nothing here masks one).
    public static func run(_ executable: String, _ arguments: [String], timeout seconds: Double,
                           maxOutputBytes: Int = 4 << 20, cancellation: Cancellation? = nil) throws -> Output {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard media_pipe_cloexec(&outPipe) == 0 else { throw Failure.spawnFailed(executable, errno: errno) }
        guard media_pipe_cloexec(&errPipe) == 0 else {
            let code = errno
            close(outPipe[0]); close(outPipe[1])
            throw Failure.spawnFailed(executable, errno: code)
        }
        let (pid, spawnErrno) = withCStrings([executable] + arguments) { argv in
            withCStrings(["PATH=/usr/bin:/bin", "LC_ALL=C"]) { envp in
                let pid = media_spawn(executable, argv, envp, outPipe[1], errPipe[1])
                return (pid, errno)  // before the strings are freed
            }
        }
        close(outPipe[1]); close(errPipe[1])
        defer { close(outPipe[0]); close(errPipe[0]) }
        guard pid > 0 else { throw Failure.spawnFailed(executable, errno: spawnErrno) }

        let deadline = monotonicSeconds() + seconds
        var stdout: [UInt8] = [], stderr: [UInt8] = []
        var open: [(fd: Int32, isStdout: Bool)] = [(outPipe[0], true), (errPipe[0], false)]
        var failure: Failure?
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !open.isEmpty, failure == nil {
            let remaining = deadline - monotonicSeconds()
            guard remaining > 0 else { failure = .timedOut(seconds: seconds); break }
            if cancellation?.isCancelled == true { failure = .cancelled; break }
            var fds = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let wait = min(remaining * 1000, cancellation == nil ? 60_000 : 50)
            let ready = poll(&fds, nfds_t(fds.count), Int32(wait.rounded(.up)))
            if ready < 0 {
                if errno == EINTR { continue }
                failure = .spawnFailed(executable, errno: errno)
                break
            }
            for (index, entry) in fds.enumerated().reversed() where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR || errno == EAGAIN { continue }
                if count <= 0 { open.remove(at: index); continue }
                if open[index].isStdout { stdout += buffer[0..<count] } else { stderr += buffer[0..<count] }
                if stdout.count > maxOutputBytes || stderr.count > maxOutputBytes {
                    failure = .outputTooLarge(bytes: maxOutputBytes)
                }
            }
        }
        if failure != nil { kill(pid, SIGKILL) }
        let status = try reap(pid, executable)
        if let failure { throw failure }
        return Output(exitCode: media_wifexited(status) != 0 ? media_wexitstatus(status) : nil, stdout: stdout, stderr: stderr)
    }

    /// Runs ffprobe or ffmpeg on an uploaded file: its failures are the file's. With
    /// `-v error`, anything on stderr means damage, even when the tool still exits 0.
    static func runTool(_ executable: String, _ arguments: [String], timeout: Double,
                        cancellation: Cancellation? = nil) throws -> Output {
        let tool = executable.split(separator: "/").last.map(String.init) ?? executable
        let output: Output
        do {
            output = try run(executable, arguments, timeout: timeout, cancellation: cancellation)
        } catch Failure.timedOut(let seconds) {
            throw VideoError.timedOut(tool: tool, seconds: seconds)
        } catch Failure.outputTooLarge(let bytes) {
            throw VideoError.undecodable("\(tool) wrote more than \(bytes) bytes about it")
        }
        guard output.succeeded, output.stderr.isEmpty else {
            throw VideoError.undecodable(output.firstErrorLine.isEmpty ? "\(tool) failed" : output.firstErrorLine)
        }
        return output
    }

    /// waitpid until the child is gone (its pipes closing does not mean it has exited).
    private static func reap(_ pid: pid_t, _ executable: String) throws -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            // ECHILD: someone else reaped it (SIGCHLD ignored): its outcome is unknown.
            if errno != EINTR { throw Failure.spawnFailed(executable, errno: errno) }
        }
        return status
    }

    public static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// NULL-terminated C string arrays for execve, valid inside `body`.
    private static func withCStrings<T>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> T) -> T {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }
}
