import Foundation
import TestSupport
import XCTest

/// Test images, made at test time with the libvips and ImageMagick command-line tools
/// (or byte by byte where a tool cannot express the case) into one temp directory.
enum Fixtures {
    /// Made again on demand, as each test class removes it when it ends.
    static var directory: String {
        let path = NSTemporaryDirectory() + "imaging-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func removeAll() { try? FileManager.default.removeItem(atPath: directory) }

    static func path(_ name: String) -> String { directory + "/" + name }

    /// Runs a tool and returns its output; a non-zero exit fails with that output.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let output = try runProcess(executable, arguments)
        guard output.status == 0 else {
            throw TestFailure("\(executable) \(arguments.joined(separator: " ")) exited \(output.status): \(output.text)")
        }
        return output.text
    }

    @discardableResult
    static func vips(_ arguments: String...) throws -> String { try run("/usr/bin/vips", arguments) }
    static func convert(_ arguments: String...) throws { try run("/usr/local/bin/convert", arguments) }
    static func vipsheader(_ path: String) throws -> String { try run("/usr/bin/vipsheader", ["-a", path]) }

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

    /// The base JPEG with an sRGB ICC profile, EXIF (orientation 6 and a GPS tag) and XMP.
    static func cameraJPEG() throws -> String {
        let withProfile = path("profile.jpg")
        try vips("icc_transform", try baseJPEG(), withProfile, "srgb")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: withProfile)))
        bytes.insert(contentsOf: app1(Array("Exif\0\0".utf8) + exifOrientation6WithGPS())
            + app1(Array("http://ns.adobe.com/xap/1.0/\0".utf8) + Array(xmp.utf8)), at: 2)
        return try write(bytes, to: "camera.jpg")
    }

    /// A PNG of a signature, an IHDR declaring `width` × `height` RGB, a tiny IDAT and
    /// IEND, each chunk with its correct CRC: a few dozen bytes claiming a huge image.
    static func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        func bigEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + data
            return bigEndian(UInt32(data.count)) + typed + bigEndian(crc32(typed))
        }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + chunk("IHDR", bigEndian(width) + bigEndian(height) + [8, 2, 0, 0, 0])
            + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
            + chunk("IEND", [])
    }

    static func write(_ bytes: [UInt8], to name: String) throws -> String {
        let output = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: output))
        return output
    }

    // MARK: Metadata segments

    private static let xmp = "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF "
        + "xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'/></x:xmpmeta>"

    private static func app1(_ payload: [UInt8]) -> [UInt8] {
        let length = payload.count + 2
        return [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
    }

    /// Big-endian TIFF: IFD0 with Orientation = 6 and a GPS IFD pointer; the GPS IFD
    /// with GPSLatitudeRef = "N".
    private static func exifOrientation6WithGPS() -> [UInt8] {
        func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
        func u32(_ value: Int) -> [UInt8] { u16(value >> 16) + u16(value & 0xFFFF) }
        let ifd0Offset = 8, gpsOffset = ifd0Offset + 2 + 2 * 12 + 4
        return Array("MM".utf8) + u16(42) + u32(ifd0Offset)
            + u16(2)
            + u16(0x0112) + u16(3) + u32(1) + u16(6) + u16(0)      // Orientation, SHORT
            + u16(0x8825) + u16(4) + u32(1) + u32(gpsOffset)       // GPSInfo, LONG
            + u32(0)
            + u16(1)
            + u16(0x0001) + u16(2) + u32(2) + Array("N\0".utf8) + u16(0)  // GPSLatitudeRef, ASCII
            + u32(0)
    }

    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
