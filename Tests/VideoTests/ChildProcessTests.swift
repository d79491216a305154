import Foundation
import Video
import XCTest

final class ChildProcessTests: XCTestCase {
    func testCollectsOutputAndExitCode() throws {
        let output = try ChildProcess.run("/bin/sh", ["-c", "printf out; printf err >&2; exit 3"], timeout: 10)
        XCTAssertEqual(output.exitCode, 3)
        XCTAssertEqual(String(decoding: output.stdout, as: UTF8.self), "out")
        XCTAssertEqual(output.firstErrorLine, "err")
    }

    /// The tool sees stdin, stdout and stderr only: no pipe, socket or file of the worker.
    func testChildInheritsNoOtherDescriptors() throws {
        let held = open("/etc/hostname", O_RDONLY)  // not close-on-exec: only media_spawn closes it
        defer { close(held) }
        let output = try ChildProcess.run("/bin/ls", ["/proc/self/fd"], timeout: 10)
        let fds = String(decoding: output.stdout, as: UTF8.self).split(separator: "\n").compactMap { Int($0) }
        // ls's own directory descriptor is the one above 2.
        XCTAssertEqual(fds.filter { $0 > 2 }.count, 1, "descriptors seen by the child: \(fds)")
        XCTAssertEqual(Array(fds.prefix(3)), [0, 1, 2])
    }

    func testDeadlineKillsAndReapsTheChild() throws {
        let started = Date()
        XCTAssertThrowsError(try ChildProcess.run("/bin/sleep", ["30"], timeout: 0.3)) { error in
            XCTAssertEqual(error as? ChildProcess.Failure, .timedOut(seconds: 0.3))
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertEqual(try children(), [], "a killed tool must be reaped, not left a zombie")
    }

    func testOutputBeyondTheBoundKillsTheChild() throws {
        XCTAssertThrowsError(try ChildProcess.run("/usr/bin/yes", [], timeout: 10, maxOutputBytes: 1 << 20)) { error in
            XCTAssertEqual(error as? ChildProcess.Failure, .outputTooLarge(bytes: 1 << 20))
        }
        XCTAssertEqual(try children(), [])
    }

    func testMissingBinaryFailsToSpawn() {
        XCTAssertThrowsError(try ChildProcess.run("/nonexistent/ffprobe", [], timeout: 1)) { error in
            XCTAssertEqual(error as? ChildProcess.Failure, .spawnFailed("/nonexistent/ffprobe", errno: ENOENT))
        }
    }

    /// The test process's children, zombies included.
    private func children() throws -> [String] {
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
        return try tasks.flatMap { task in
            try String(contentsOfFile: "/proc/self/task/\(task)/children", encoding: .utf8)
                .split(separator: " ").map(String.init)
        }
    }
}
