import Foundation

/// Test images made on the fly with ImageMagick and libvips' CLI (never checked in),
/// once per test process, in a temp folder.
public enum Fixtures {
    public static let directory: String = {
        let path = NSTemporaryDirectory() + "media-fixtures-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    // Recursive: a fixture may be made from another one.
    private static let lock = NSRecursiveLock()

    /// The path of fixture `name`, made by `make(path)` the first time it is asked for.
    public static func file(_ name: String, _ make: (String) throws -> Void) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        let path = directory + "/" + name
        if !FileManager.default.fileExists(atPath: path) { try make(path) }
        return path
    }

    public static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Runs a fixture tool and returns its output; a non-zero exit fails with that output.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let result = try runProcess(executable, arguments)
        guard result.status == 0 else {
            throw TestFailure("\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.text)")
        }
        return result.text
    }

    public static func convert(_ name: String, _ arguments: [String]) throws -> String {
        try file(name) { try run("/usr/bin/convert", arguments + [$0]) }
    }

    /// A photo-like JPEG (gradients and noise, so it does not compress to nothing).
    public static func jpeg(width: Int, height: Int, quality: Int = 85) throws -> String {
        try convert("photo-\(width)x\(height)-q\(quality).jpg", [
            "-size", "\(width)x\(height)", "gradient:#1e3c72-#f8b500", "-attenuate", "0.4", "+noise", "Gaussian",
            "-quality", "\(quality)",
        ])
    }

    /// Converts an existing fixture with libvips' CLI (formats ImageMagick may lack: WebP, AVIF, HEIC).
    public static func vipsCopy(_ source: String, to name: String) throws -> String {
        try file(name) { try run("/usr/bin/vips", ["copy", source, $0]) }
    }

    /// A 400 × 200 JPEG as a camera writes it: an sRGB ICC profile, EXIF with orientation 6
    /// (to be shown rotated: upright it is 200 × 400) and a GPS tag, and XMP.
    public static func cameraJPEG() throws -> String {
        try file("camera.jpg") { output in
            let base = try convert("camera-base.jpg", ["-size", "400x200", "gradient:red-blue"])
            let withProfile = directory + "/camera-profile.jpg"
            try run("/usr/bin/vips", ["icc_transform", base, withProfile, "srgb"])
            var bytes = try Self.bytes(withProfile)
            bytes.insert(contentsOf: app1(Array("Exif\0\0".utf8) + exifOrientation6WithGPS())
                + app1(Array("http://ns.adobe.com/xap/1.0/\0".utf8) + Array(xmp.utf8)), at: 2)
            try Data(bytes).write(to: URL(fileURLWithPath: output))
        }
    }

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

    /// A valid PNG header declaring `width`×`height` pixels, with almost no pixel data:
    /// the decompression-bomb shape that must be refused from the header alone.
    public static func pngDeclaring(width: UInt32, height: UInt32) -> [UInt8] {
        let header = bigEndian(width) + bigEndian(height) + [8, 2, 0, 0, 0]
        // A zlib stream of a few rows' worth of zeros: the file is tiny, the image is not.
        let idat: [UInt8] = [0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]
        return [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] + pngChunk("IHDR", header) + pngChunk("IDAT", idat)
            + pngChunk("IEND", [])
    }

    /// One PNG chunk: length, type, data, CRC.
    public static func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typed + bigEndian(crc32(typed))
    }

    /// A valid PNG with `chunks` (made with `pngChunk`) right after its IHDR.
    public static func png(inserting chunks: [UInt8]) throws -> [UInt8] {
        var bytes = try Self.bytes(convert("gradient-64.png", ["-size", "64x64", "gradient:navy-orange"]))
        bytes.insert(contentsOf: chunks, at: 8 + 25)  // the signature, then IHDR's 25 bytes
        return bytes
    }

    /// `count` zero bytes as a zlib stream, made by Python's zlib (level 9: 512 MiB of zeros
    /// come to about 500 KB), kept as a fixture.
    public static func zlibZeros(_ count: Int) throws -> [UInt8] {
        try Self.bytes(file("zeros-\(count).zlib") { path in
            try run("/usr/bin/python3", ["-c", """
                import sys, zlib
                left, out = \(count), zlib.compressobj(9)
                with open(sys.argv[1], "wb") as f:
                    while left:
                        n = min(left, 1 << 20)
                        f.write(out.compress(bytes(n)))
                        left -= n
                    f.write(out.flush())
                """, path])
        })
    }

    /// JPEG APPn segments carrying `count` bytes in all (each at most 65,533).
    public static func jpegSegments(marker: UInt8, totalling count: Int, prefix: [UInt8] = []) -> [UInt8] {
        var segments: [UInt8] = []
        var left = count
        while left > 0 {
            let payload = min(left, 65_533 - prefix.count)
            let length = payload + prefix.count + 2
            segments += [0xFF, marker, UInt8(length >> 8), UInt8(length & 0xFF)] + prefix
                + [UInt8](repeating: 0x41, count: payload)
            left -= payload
        }
        return segments
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

/// A multipart/form-data body, built the way browsers send them.
public struct MultipartBody {
    public let boundary: String
    public private(set) var bytes: [UInt8] = []

    public init(boundary: String = "----mediaTestBoundary\(UInt32.random(in: 0...UInt32.max))") {
        self.boundary = boundary
    }

    public var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    public mutating func field(_ name: String, _ value: String) {
        bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }

    public mutating func file(_ name: String = "file", filename: String, contentType: String = "application/octet-stream",
                              _ content: [UInt8]) {
        bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n".utf8)
        bytes += content + Array("\r\n".utf8)
    }

    /// The body with its closing delimiter.
    public var finished: [UInt8] { bytes + Array("--\(boundary)--\r\n".utf8) }
}

/// Test videos, good and hostile, made by scripts/video-fixtures with ffmpeg (never checked in).
public enum VideoFixtures {
    /// The folder, made on first use (the script writes `.complete` last).
    public static func directory() throws -> String {
        let path = Fixtures.directory + "/videos"
        _ = try Fixtures.file("videos/.complete") { _ in
            try Fixtures.run(TestEnvironment.repository.appendingPathComponent("scripts/video-fixtures").path, [path])
        }
        return path
    }

    public static func path(_ name: String) throws -> String { try directory() + "/" + name }
    public static func bytes(_ name: String) throws -> [UInt8] { try Fixtures.bytes(path(name)) }
}
