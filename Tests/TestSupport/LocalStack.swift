#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A pool and an nginx in front of it, started for real by `scripts/stack` in a run
/// directory of their own, sharing the test database. Stopped (and its directory removed)
/// by `stop()`.
public final class LocalStack: @unchecked Sendable {
    public let runDirectory: String
    public let httpPort: UInt16
    /// nginx's second server, serving only /uploads/: the stored files' own origin.
    public let filesPort: UInt16
    public let settings: [String: String]
    public var http: HTTPClient { HTTPClient(port: httpPort) }
    public var socketPath: String { runDirectory + "/media.sock" }
    public var fastCGI: FastCGIClient { FastCGIClient(socketPath: socketPath) }

    /// Starts pool and nginx. `settings` are extra MEDIA_* variables for the pool. With
    /// `filesOrigin`, responses point at the files' own origin (MEDIA_BASE_URL on `filesPort`).
    public init(_ name: String, settings: [String: String] = [:], nginx: Bool = true, filesOrigin: Bool = false) throws {
        // Unix socket paths are limited to 107 bytes: keep the run directory short.
        runDirectory = "/tmp/mt-\(name.prefix(12))-\(UInt32.random(in: 0...UInt32.max))"
        httpPort = try freePort()
        filesPort = try freePort()
        var settings = TestOrigin.settings().merging(settings) { $1 }
        settings["MEDIA_FILES_PORT"] = String(filesPort)
        if filesOrigin { settings["MEDIA_BASE_URL"] = "http://127.0.0.1:\(filesPort)/uploads" }
        settings["MEDIA_DEBUG_ENDPOINTS"] = settings["MEDIA_DEBUG_ENDPOINTS"] ?? "1"
        settings["MEDIA_WORKERS"] = settings["MEDIA_WORKERS"] ?? "2"
        // The suite shares one database and a few users: per-user generation limits would count
        // every test's jobs of the last hour. LimitsTests sets them.
        settings["MEDIA_GENERATION_MAX_QUEUED"] = settings["MEDIA_GENERATION_MAX_QUEUED"] ?? "0"
        settings["MEDIA_GENERATION_PER_HOUR"] = settings["MEDIA_GENERATION_PER_HOUR"] ?? "0"
        self.settings = settings
        do {
            try stack(["env", "pool-up"] + (nginx ? ["nginx-up"] : []))
        } catch {
            stop()  // a pool that came up before nginx failed must not outlive the test
            throw error
        }
    }

    /// Runs `scripts/stack` subcommands with this stack's environment.
    public func stack(_ commands: [String]) throws {
        let output = try runProcess(
            "/bin/bash", [TestEnvironment.repository.appendingPathComponent("scripts/stack").path] + commands,
            environment: environment())
        guard output.status == 0 else {
            throw TestFailure("scripts/stack \(commands.joined(separator: " ")) failed (\(output.status)):\n\(output.text)\n\(log())")
        }
    }

    public func environment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MEDIA_") }
        environment["MEDIA_RUN_DIR"] = runDirectory
        environment["MEDIA_HTTP_PORT"] = String(httpPort)
        environment["MEDIA_BIN"] = TestEnvironment.binary
        if let url = TestEnvironment.databaseURL { environment["DATABASE_URL"] = url }
        for (key, value) in settings { environment[key] = value }
        return environment
    }

    /// The environment this stack's pool runs with (its env file): for running other
    /// `media-server` commands (gc, serve) against the same database and storage.
    public func serverEnvironment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MEDIA_") }
        environment.merge(TestEnvironment.readEnvFile(runDirectory + "/env")) { $1 }
        return environment
    }

    public func stop() {
        _ = try? stack(["nginx-down", "pool-down"])
        try? FileManager.default.removeItem(atPath: runDirectory)
    }

    /// The supervisor's pid, from the pid file scripts/stack wrote.
    public func poolPID() -> pid_t? {
        guard let text = try? String(contentsOfFile: runDirectory + "/media-server.pid", encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The pool's status report, through nginx (from loopback).
    public func status() throws -> [String: Any] {
        let response = try http.get("/api/media/_status")
        guard response.status == 200 else { throw TestFailure("status answered \(response.status): \(response.text)") }
        return response.json()
    }

    /// Pids of the workers the status report lists, by state.
    public func workerPIDs(states: Set<String>? = nil) throws -> [Int32] {
        let workers = try status()["workers"] as? [[String: Any]] ?? []
        return workers.filter { states == nil || states!.contains($0["state"] as? String ?? "") }
            .compactMap { ($0["pid"] as? NSNumber)?.int32Value }.sorted()
    }

    /// What the pool wrote to stderr.
    public func log() -> String {
        (try? String(contentsOfFile: runDirectory + "/logs/media-server.log", encoding: .utf8)) ?? ""
    }

    /// Uploads one file as `user` through nginx.
    public func upload(_ bytes: [UInt8], filename: String, as user: String,
                       fields: [String: String] = [:]) throws -> HTTPResponseMessage {
        var form = MultipartBody()
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) { form.field(name, value) }
        form.file(filename: filename, bytes)
        return try http.send(method: "POST", path: "/api/media/upload",
                             headers: ["X-User-Id": user, "Content-Type": form.contentType], body: form.finished)
    }

    /// POST /api/media/generate as `user` through nginx, `json` the body.
    public func generate(as user: String, _ json: String) throws -> HTTPResponseMessage {
        try http.send(method: "POST", path: "/api/media/generate",
                      headers: ["X-User-Id": user, "Content-Type": "application/json"], body: Array(json.utf8))
    }

    /// Queues a 256 × 256 image job for `prompt` as `user`: its id (anything but 202 fails).
    public func queueImageJob(prompt: String, as user: String) throws -> String {
        let response = try generate(as: user, #"{"prompt":"\#(prompt)","type":"image","params":{"width":256,"height":256}}"#)
        guard response.status == 202, let id = response.json()["id"] as? String else {
            throw TestFailure("generate answered \(response.status): \(response.text)")
        }
        return id
    }

    /// Ids of the jobs whose `running` state the pool logged, once per claim.
    public var claimedJobs: [String] {
        log().split(separator: "\n")
            .filter { $0.contains(#""event":"job.state""#) && $0.contains(#""status":"running""#) }
            .compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["jobId"] as? String
            }
    }

    /// Polls `condition` every 20 ms until it holds or `seconds` pass.
    @discardableResult
    public func waitUntil(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }
}

/// A free TCP port on loopback (bind to 0, read it back, release it).
public func freePort() throws -> UInt16 {
    let listener = try loopbackListener()
    close(listener.descriptor)
    return listener.port
}

/// A socket listening on 127.0.0.1 at a port the kernel picked; the caller closes it.
public func loopbackListener() throws -> (descriptor: Int32, port: UInt16) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let listening = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard fd >= 0, listening else {
        if fd >= 0 { close(fd) }
        throw TestFailure("cannot listen on loopback")
    }
    return (fd, UInt16(bigEndian: address.sin_port))
}

public struct ProcessOutput: Sendable {
    public let status: Int32
    public let text: String
}

/// A program the tests start, run through posix_spawn and reaped with waitpid.
/// (Foundation's Process on Linux can miss a fast child's exit and hang in
/// waitUntilExit.) stdout and stderr go to one file, never a pipe: daemons the
/// program starts (nginx, the pool) inherit them, and a pipe would never reach EOF.
public final class ChildProcess {
    public let pid: pid_t
    private var exitStatus: Int32?

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                stdinPath: String = "/dev/null", outputPath: String = "/dev/null") throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_APPEND | O_CREAT, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let environment = environment ?? ProcessInfo.processInfo.environment
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else { throw TestFailure("cannot start \(executable): \(String(cString: strerror(result)))") }
        self.pid = pid
    }

    public func terminate(signal: Int32 = SIGTERM) {
        if exitStatus == nil { kill(pid, signal) }
    }

    private static func exitCode(_ status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Waits at most `seconds` for the program to end: its exit code, nil if it still runs.
    public func wait(timeout seconds: Double) -> Int32? {
        if let exitStatus { return exitStatus }
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid {
                exitStatus = Self.exitCode(status)
                return exitStatus
            }
            usleep(20_000)
        }
        return nil
    }

    /// Waits for the program to end; its exit code, or 128 + the signal that ended it.
    @discardableResult
    public func wait() -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = Self.exitCode(status)
        exitStatus = code
        return code
    }
}

/// Runs a program to completion, with stdout and stderr together.
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                       input: Data? = nil) throws -> ProcessOutput {
    let base = NSTemporaryDirectory() + "media-test-\(UInt64.random(in: 0 ... .max))"
    let inputPath = base + ".in", outputPath = base + ".out"
    defer {
        try? FileManager.default.removeItem(atPath: inputPath)
        try? FileManager.default.removeItem(atPath: outputPath)
    }
    guard FileManager.default.createFile(atPath: inputPath, contents: input ?? Data()) else {
        throw TestFailure("cannot create \(inputPath)")
    }
    let process = try ChildProcess(executable, arguments, environment: environment,
                                   stdinPath: inputPath, outputPath: outputPath)
    let status = process.wait()
    let data = FileManager.default.contents(atPath: outputPath) ?? Data()
    return ProcessOutput(status: status, text: String(decoding: data, as: UTF8.self))
}
