import Foundation
import TestSupport
import XCTest

/// Imaging test images (beside TestSupport's shared Fixtures), made at test time with the libvips and ImageMagick command-line tools
/// (or byte by byte where a tool cannot express the case) into one temp directory.
enum ImagingFixtures {
    /// Made again on demand, as each test class removes it when it ends.
    static var directory: String {
        let path = NSTemporaryDirectory() + "imaging-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func removeAll() { try? FileManager.default.removeItem(atPath: directory) }

    static func path(_ name: String) -> String { directory + "/" + name }

    @discardableResult
    static func vips(_ arguments: String...) throws -> String { try Fixtures.run("/usr/bin/vips", arguments) }
    static func convert(_ arguments: String...) throws { try Fixtures.run("/usr/bin/convert", arguments) }
    static func vipsheader(_ path: String) throws -> String { try Fixtures.run("/usr/bin/vipsheader", ["-a", path]) }

    /// A 400 × 200 red-to-blue JPEG.
    static func baseJPEG() throws -> String {
        let output = path("base.jpg")
        if !FileManager.default.fileExists(atPath: output) {
            try convert("-size", "400x200", "gradient:red-blue", output)
        }
        return output
    }

    /// A 1200 × 900 noise JPEG cut in half: its header is intact, its scan data is not.
    static func truncatedJPEG() throws -> String {
        let whole = path("noise.jpg")
        if !FileManager.default.fileExists(atPath: whole) {
            try convert("-seed", "7", "-size", "1200x900", "xc:gray", "+noise", "Random", whole)
        }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: whole)))
        return try write(Array(bytes[..<(bytes.count / 2)]), to: "truncated.jpg")
    }

    static func write(_ bytes: [UInt8], to name: String) throws -> String {
        let output = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: output))
        return output
    }
}
