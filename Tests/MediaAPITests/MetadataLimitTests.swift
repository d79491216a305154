#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TestSupport
import XCTest

/// MEDIA_MAX_METADATA_BYTES through nginx: images whose text chunks, EXIF, ICC profiles or
/// comments pass the limit (as stored, or as a compressed chunk would inflate) are refused
/// with 422 before libvips decodes anything, leave nothing behind, and cost the worker
/// little memory; files within it are accepted as before. The same for MEDIA_MAX_DECODE_BYTES:
/// images whose decoders would hold the whole image, or too many rows of a wide one.
final class MetadataLimitTests: XCTestCase {
    func testOversizedMetadataIsRefusedFromTheHeaderScanWithLittleMemory() throws {
        let stack = try LocalStack("metadata", settings: ["MEDIA_WORKERS": "1"])
        defer { stack.stop() }
        try openImaging(in: stack)
        let user = "u-meta-\(UInt32.random(in: 0...UInt32.max))"
        let photo = try Fixtures.bytes(Fixtures.jpeg(width: 320, height: 240))
        func jpeg(with segments: [UInt8]) -> [UInt8] { Array(photo[..<2]) + segments + Array(photo[2...]) }
        let refused: [(String, String, [UInt8])] = [
            ("a PNG with a 20 MB iTXt chunk", "big.png", try Fixtures.png(inserting: Fixtures.pngChunk(
                "iTXt", Array("Comment\0".utf8) + [0, 0, 0, 0] + [UInt8](repeating: 0x61, count: 20 << 20)))),
            ("a 500 KB PNG whose zTXt inflates to 512 MiB", "bomb.png", try Fixtures.png(inserting: Fixtures.pngChunk(
                "zTXt", Array("Comment\0".utf8) + [0] + (try Fixtures.zlibZeros(512 << 20))))),
            ("a JPEG with 10 MB of ICC segments", "icc.jpg", jpeg(with: Fixtures.jpegSegments(
                marker: 0xE2, totalling: 10 << 20, prefix: Array("ICC_PROFILE\0".utf8)))),
            ("a JPEG with 10 MB of EXIF", "exif.jpg", jpeg(with: Fixtures.jpegSegments(
                marker: 0xE1, totalling: 10 << 20, prefix: Array("Exif\0\0".utf8)))),
        ]
        try upload(refused, to: stack, as: user, expecting: 422) { XCTAssertEqual($0.errorCode, "metadata_too_large") }
        try assertNothingLeft(on: stack, by: user)

        // Just within the limit: accepted, and still within 64 MB of idle.
        let accepted: [(String, String, [UInt8])] = [
            ("a PNG with 1000 KB of zTXt", "text.png", try Fixtures.png(inserting: Fixtures.pngChunk(
                "zTXt", Array("Comment\0".utf8) + [0] + (try Fixtures.zlibZeros(1000 << 10))))),
            ("a JPEG with 1000 KB of comments", "comment.jpg", jpeg(with: Fixtures.jpegSegments(marker: 0xFE,
                                                                                               totalling: 1000 << 10))),
            ("a camera JPEG (ICC, EXIF, XMP)", "camera.jpg", try Fixtures.bytes(Fixtures.cameraJPEG())),
        ]
        try upload(accepted, to: stack, as: user, expecting: 201)
    }

    func testImagesWhoseDecodeWouldHoldTooMuchAreRefusedFromTheHeader() throws {
        let stack = try LocalStack("decode", settings: ["MEDIA_WORKERS": "1"])
        defer { stack.stop() }
        try openImaging(in: stack)
        let user = "u-decode-\(UInt32.random(in: 0...UInt32.max))"
        // Black images: tiny files, and the decoders that hold the whole image hold it all the same.
        func black(_ name: String, options: String = "", _ width: Int, _ height: Int) throws -> [UInt8] {
            try Fixtures.bytes(Fixtures.file("decode-\(width)x\(height)-" + name) { path in
                _ = try Fixtures.run("/usr/bin/vips", ["black", path + options, String(width), String(height), "--bands", "3"])
            })
        }
        let refused: [(String, String, [UInt8])] = [
            ("a 25 MP progressive JPEG (+163 MiB when decoded)", "p.jpg", try black("p.jpg", options: "[interlace,Q=90]", 5000, 5000)),
            ("a 25 MP interlaced PNG (+79 MiB)", "i.png", try black("i.png", options: "[interlace]", 5000, 5000)),
            ("a 25 MP lossless WebP", "l.webp", try black("l.webp", options: "[lossless]", 5000, 5000)),
            ("a 25 MP GIF (+112 MiB)", "g.gif", try black("g.gif", 5000, 5000)),
            ("a 9 MP HEIC", "h.heic", try black("h.heic", options: "[compression=hevc,effort=0]", 3000, 3000)),
            ("a baseline JPEG 12,000 pixels wide", "w.jpg", try black("w.jpg", 12000, 400)),
        ]
        try upload(refused, to: stack, as: user, expecting: 422) { response in
            XCTAssertEqual(response.errorCode, "image_too_large")
            XCTAssertTrue(response.text.contains("MiB of memory"), response.text)
        }
        try assertNothingLeft(on: stack, by: user)

        // Just within the limit, each kind: accepted, and within 64 MB of idle.
        let accepted: [(String, String, [UInt8])] = [
            ("a PNG 6,800 pixels wide", "wide.png", try black("wide.png", 6800, 2000)),
            ("a 4 MP progressive JPEG", "p4.jpg", try black("p4.jpg", options: "[interlace,Q=90]", 2000, 2000)),
            ("a 4 MP HEIC", "h4.heic", try black("h4.heic", options: "[compression=hevc,effort=0]", 2000, 2000)),
        ]
        try upload(accepted, to: stack, as: user, expecting: 201)
    }

    /// Uploads each (what, filename, bytes) through nginx: each answers `status` (and passes
    /// `check`), and raises the worker's peak RSS by less than 64 MB over idle.
    func upload(_ cases: [(String, String, [UInt8])], to stack: LocalStack, as user: String, expecting status: Int,
                check: (HTTPResponseMessage) -> Void = { _ in }) throws {
        for (what, name, bytes) in cases {
            let growth = try peakGrowth(stack) {
                let response = try stack.upload(bytes, filename: name, as: user)
                XCTAssertEqual(response.status, status, "\(what): \(response.text)")
                check(response)
            }
            XCTAssertLessThan(growth, 64 << 20, "\(what): the worker's peak RSS grew by \(growth >> 20) MiB")
            print("\(what): \(status), worker peak RSS +\(growth >> 10) KiB")
        }
    }

    /// A worker opens libvips at its first image (about 24 MB of libraries, once): an idle
    /// worker has not. Open it before measuring, so that growth is what an image costs.
    func openImaging(in stack: LocalStack) throws {
        let worker = try XCTUnwrap(try stack.workerPIDs().first)
        func mapsLibvips() throws -> Bool {
            // Read to the end: String(contentsOfFile:) stops after the first page of a /proc file.
            let maps = try XCTUnwrap(FileHandle(forReadingAtPath: "/proc/\(worker)/maps"))
            defer { try? maps.close() }
            return String(decoding: try maps.readToEnd() ?? Data(), as: UTF8.self).contains("/libvips.so")
        }
        XCTAssertFalse(try mapsLibvips(), "an idle worker has not opened libvips")
        let response = try stack.upload(try Fixtures.bytes(Fixtures.jpeg(width: 64, height: 48)), filename: "open.jpg",
                                        as: "u-open-\(worker)")
        XCTAssertEqual(response.status, 201, response.text)
        XCTAssertTrue(try mapsLibvips(), "the worker opened libvips at its first image")
    }

    /// The refused uploads left no file, temp file or row.
    func assertNothingLeft(on stack: LocalStack, by user: String) throws {
        XCTAssertEqual(try stack.storedObjects(under: user + "/"), [], "no file")
        XCTAssertEqual(stack.temporaryFiles(), [], "no temp file")
        XCTAssertEqual((try stack.http.get("/api/media/usage", headers: ["X-User-Id": user]).json())["count"] as? Int, 0,
                       "no row")
    }

    /// How far the worker's peak RSS rose above its RSS before `body` (Linux: writing 5
    /// to clear_refs resets the peak).
    func peakGrowth(_ stack: LocalStack, _ body: () throws -> Void) throws -> Int {
        let worker = try XCTUnwrap(try stack.workerPIDs().first)
        try "5".write(toFile: "/proc/\(worker)/clear_refs", atomically: false, encoding: .utf8)
        let before = try memory(worker, "VmRSS")
        try body()
        return try memory(worker, "VmHWM") - before
    }

    func memory(_ pid: Int32, _ field: String) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix(field + ":") })
        return try XCTUnwrap(Int(line.split(separator: " ").dropFirst().first ?? "")) * 1024
    }
}
