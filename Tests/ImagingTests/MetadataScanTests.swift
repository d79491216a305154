import Foundation
@testable import Imaging
import TestSupport
import XCTest

/// The header scan that bounds metadata before libvips reads it: what it counts in each
/// format, that compressed chunks count as they inflate (and inflating stops at the limit),
/// and that a file within the limit opens as before.
final class MetadataScanTests: XCTestCase {
    let limit = 1 << 20

    func measure(_ bytes: [UInt8], _ format: ImageFormat, limit: Int? = nil) throws -> Int {
        try MetadataScan.measure(.bytes(bytes), format: format, limit: limit ?? self.limit)
    }

    func assertRefused(_ bytes: [UInt8], _ format: ImageFormat, limit: Int? = nil, file: StaticString = #filePath,
                       line: UInt = #line) {
        XCTAssertThrowsError(try measure(bytes, format, limit: limit), file: file, line: line) { error in
            XCTAssertEqual(error as? ImagingError, .metadataTooLarge(limit: limit ?? self.limit), file: file, line: line)
        }
    }

    func testPNGTextChunksCountAsStoredAndCompressedOnesAsTheyInflate() throws {
        let base = try measure(try Fixtures.png(inserting: []), .png)  // ImageMagick's own date chunks
        let text = Fixtures.pngChunk("tEXt", Array("Comment\0".utf8) + [UInt8](repeating: 0x61, count: 1000))
        XCTAssertEqual(try measure(try Fixtures.png(inserting: text), .png), base + 1008)

        let deflated = try Fixtures.zlibZeros(100_000)
        let ztxt = Fixtures.pngChunk("zTXt", Array("Comment\0".utf8) + [0] + deflated)
        XCTAssertEqual(try measure(try Fixtures.png(inserting: ztxt), .png), base + 8 + 1 + 100_000)

        let compressedITXt = Fixtures.pngChunk("iTXt", Array("XML:com.adobe.xmp\0".utf8) + [1, 0] + Array("en\0\0".utf8) + deflated)
        XCTAssertEqual(try measure(try Fixtures.png(inserting: compressedITXt), .png), base + 18 + 2 + 4 + 100_000)
        let plainITXt = Fixtures.pngChunk("iTXt", Array("k\0".utf8) + [0, 0] + Array("\0\0".utf8) + Array(repeating: 0x62, count: 500))
        XCTAssertEqual(try measure(try Fixtures.png(inserting: plainITXt), .png), base + 2 + 2 + 2 + 500)

        // 500 KB that would inflate to 512 MiB: refused after inflating just past the limit.
        let bomb = Fixtures.pngChunk("zTXt", Array("b\0".utf8) + [0] + (try Fixtures.zlibZeros(512 << 20)))
        XCTAssertLessThan(bomb.count, 1 << 20)
        let started = Date()
        assertRefused(try Fixtures.png(inserting: bomb), .png)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "inflating stops at the limit")

        // Many chunks each under the limit add up; the iCCP profile counts inflated too.
        let many = (0..<5).map { _ in Fixtures.pngChunk("tEXt", Array("k\0".utf8) + [UInt8](repeating: 0, count: 300_000)) }
        assertRefused(try Fixtures.png(inserting: many.flatMap { $0 }), .png)
        let profile = Fixtures.pngChunk("iCCP", Array("icc\0".utf8) + [0] + (try Fixtures.zlibZeros(2 << 20)))
        assertRefused(try Fixtures.png(inserting: profile), .png)
    }

    func testJPEGSegmentsCountUpToTheEndMarkerAlsoBetweenScans() throws {
        let photo = try Fixtures.bytes(Fixtures.jpeg(width: 64, height: 48))
        let baseline = try measure(photo, .jpeg)  // ImageMagick's JFIF segment and the like
        var icc = photo
        icc.insert(contentsOf: Fixtures.jpegSegments(marker: 0xE2, totalling: 10 << 20, prefix: Array("ICC_PROFILE\0".utf8)),
                   at: 2)
        assertRefused(icc, .jpeg)
        var exif = photo
        exif.insert(contentsOf: Fixtures.jpegSegments(marker: 0xE1, totalling: 2 << 20, prefix: Array("Exif\0\0".utf8)), at: 2)
        assertRefused(exif, .jpeg)
        var comment = photo
        comment.insert(contentsOf: Fixtures.jpegSegments(marker: 0xFE, totalling: 5000), at: 2)
        XCTAssertEqual(try measure(comment, .jpeg), baseline + 5000)

        // Segments after the first scan (where a progressive file has more) count as well...
        let progressive = try Fixtures.bytes(Fixtures.convert("progressive.jpg", [
            "-size", "64x48", "gradient:red-blue", "-interlace", "JPEG"]))
        let firstScan = try XCTUnwrap(progressive.indices.dropLast().first { progressive[$0] == 0xFF && progressive[$0 + 1] == 0xDA })
        var betweenScans = progressive
        let afterScan = try XCTUnwrap(betweenScans[(firstScan + 2)...].indices.dropLast().first {
            betweenScans[$0] == 0xFF && ![0x00, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7].contains(betweenScans[$0 + 1])
        })
        betweenScans.insert(contentsOf: Fixtures.jpegSegments(marker: 0xEF, totalling: 2 << 20), at: afterScan)
        assertRefused(betweenScans, .jpeg)
        // ...but nothing after the end marker: trailing bytes are not the image's.
        XCTAssertEqual(try measure(photo + Fixtures.jpegSegments(marker: 0xE1, totalling: 2 << 20), .jpeg), baseline)
    }

    func testWebPGIFTIFFAndAVIFMetadata() throws {
        let camera = try Fixtures.cameraJPEG()  // ICC, EXIF and XMP
        for (format, name) in [(ImageFormat.webp, "camera.webp"), (.tiff, "camera.tif"), (.avif, "camera.avif")] {
            let bytes = try Fixtures.bytes(Fixtures.vipsCopy(camera, to: name))
            let found = try measure(bytes, format)
            XCTAssertGreaterThan(found, 400, "\(name): the ICC profile at least")
            assertRefused(bytes, format, limit: 100)
        }
        var gif = try Fixtures.bytes(Fixtures.convert("small.gif", ["-size", "8x8", "xc:red"]))
        let comment: [UInt8] = [0x21, 0xFE] + (0..<20).flatMap { _ in [255] + [UInt8](repeating: 0x63, count: 255) } + [0]
        gif.insert(contentsOf: comment, at: gif.count - 1)  // before the trailer
        XCTAssertEqual(try measure(gif, .gif), 20 * 255)
        assertRefused(gif, .gif, limit: 5000)
    }

    func testDamagedOrTruncatedStructuresEndTheScanWithoutTrapping() throws {
        let png = try Fixtures.png(inserting: Fixtures.pngChunk("tEXt", Array("k\0v".utf8)))
        for cut in stride(from: 0, to: png.count, by: 7) {
            for format in ImageFormat.allCases {
                _ = try? measure(Array(png[..<cut]), format)
            }
        }
        // A length beyond the file, an IFD loop, an iloc claiming more extents than exist.
        XCTAssertEqual(try measure(Array(png[..<33]) + [0xFF, 0xFF, 0xFF, 0xFF] + Array("tEXt".utf8), .png), 0)
        let loop: [UInt8] = Array("II".utf8) + [42, 0, 8, 0, 0, 0] + [0, 0] + [8, 0, 0, 0]
        XCTAssertEqual(try measure(loop, .tiff), 0)
        // The fuzzer's find: iloc extent lengths of 8 bytes that do not fit in an Int, summed
        // (for an item that is not metadata, so nothing counts).
        let crash = try Fixtures.bytes(TestEnvironment.repository
            .appendingPathComponent("Tests/FuzzCorpus/metadata/crash-iloc-extent-overflow").path)
        XCTAssertNoThrow(try measure(Array(crash.dropFirst()), .avif), "the sum saturates instead of trapping")
    }

    func testInspectRefusesBeforeLibvipsOpensTheFile() throws {
        let processor = ImageProcessor(maxPixels: 100_000_000, maxMetadataBytes: 4096)
        let path = Fixtures.directory + "/text-\(UInt32.random(in: 0...UInt32.max)).png"
        let bytes = try Fixtures.png(inserting: Fixtures.pngChunk("tEXt", Array("k\0".utf8) + [UInt8](repeating: 0x61, count: 5000)))
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        XCTAssertThrowsError(try processor.inspect(path: path)) { error in
            XCTAssertEqual(error as? ImagingError, .metadataTooLarge(limit: 4096))
        }
        XCTAssertNoThrow(try ImageProcessor(maxPixels: 100_000_000).inspect(path: path), "within the default 1 MiB")
    }
}
