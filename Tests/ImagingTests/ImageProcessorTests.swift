import CVips
import Foundation
@testable import Imaging
import TestSupport
import XCTest

final class ImageProcessorTests: XCTestCase {
    private let processor = ImageProcessor(maxPixels: 100_000_000)

    override class func setUp() {
        super.setUp()
        try? Vips.initialize(concurrency: 1)
    }

    override class func tearDown() {
        ImagingFixtures.removeAll()
        super.tearDown()
    }

    // MARK: Formats

    func testCameraJPEGIsAutoRotatedAndStripped() throws {
        let input = try Fixtures.cameraJPEG()
        let inputFields = try ImagingFixtures.vipsheader(input)
        for field in ["exif-data", "GPSLatitudeRef", "xmp-data", "icc-profile-data", "orientation: 6"] {
            XCTAssertTrue(inputFields.contains(field), "fixture lacks \(field):\n\(inputFields)")
        }
        let header = try processor.inspect(path: input)
        XCTAssertEqual(header, ImageHeader(format: .jpeg, loader: "jpegload", width: 400, height: 200,
                                           pages: 1, orientation: 6, hasColorProfile: true))
        XCTAssertEqual([header.uprightWidth, header.uprightHeight], [200, 400])

        let preview = try processor.makeVariant(from: input, header: header, maxSide: 1600, quality: 82)
        XCTAssertEqual([preview.width, preview.height], [200, 400], "turned upright, not upscaled")
        let thumbnail = try processor.makeVariant(from: input, header: header, maxSide: 320, quality: 80)
        XCTAssertEqual([thumbnail.width, thumbnail.height], [160, 320])

        for variant in [preview, thumbnail] {
            let fields = try fieldsOf(variant)
            XCTAssertTrue(fields.contains("webpload"), fields)
            for field in ["exif", "GPS", "xmp-data", "iptc-data", "icc-profile-data", "orientation"] {
                XCTAssertFalse(fields.contains(field), "variant keeps \(field):\n\(fields)")
            }
        }
    }

    func testVariantsOfEveryAcceptedFormat() throws {
        let base = try ImagingFixtures.baseJPEG()
        let progressive = ImagingFixtures.path("progressive.jpg")
        try ImagingFixtures.convert(base, "-interlace", "Plane", progressive)
        XCTAssertTrue(try ImagingFixtures.vipsheader(progressive).contains("interlaced: 1"))
        let palette = ImagingFixtures.path("palette.png")
        try ImagingFixtures.convert("-size", "400x200", "gradient:red-blue", "-colors", "16", "PNG8:" + palette)
        XCTAssertTrue(try ImagingFixtures.vipsheader(palette).contains("palette-bit-depth"))
        let grey = ImagingFixtures.path("grey.jpg")
        try ImagingFixtures.convert(base, "-colorspace", "Gray", grey)
        XCTAssertTrue(try ImagingFixtures.vipsheader(grey).contains("1 band, b-w"))
        var cases: [(path: String, format: ImageFormat, loader: String)] = [
            (progressive, .jpeg, "jpegload"), (grey, .jpeg, "jpegload"), (palette, .png, "pngload"),
        ]
        for (name, format, loader) in [("webp.webp", ImageFormat.webp, "webpload"), ("tiff.tif", .tiff, "tiffload"),
                                       ("heic.heic", .heif, "heifload"), ("avif.avif", .avif, "heifload")] {
            let output = ImagingFixtures.path(name)
            try ImagingFixtures.vips("copy", base, output)
            cases.append((output, format, loader))
        }
        for (path, format, loader) in cases {
            let header = try processor.inspect(path: path)
            XCTAssertEqual([header.width, header.height, header.pages], [400, 200, 1], path)
            XCTAssertEqual(header.format, format, path)
            XCTAssertEqual(header.loader, loader, path)
            let variants = try processor.makeDisplayVariants(from: path)
            XCTAssertEqual([variants.thumbnail.width, variants.thumbnail.height], [320, 160], path)
            XCTAssertEqual([variants.preview.width, variants.preview.height], [400, 200], path)
            XCTAssertEqual(Array(variants.preview.bytes[8..<12]), Array("WEBP".utf8), path)
            XCTAssertEqual(variants.preview.byteCount, variants.preview.bytes.count)
            XCTAssertEqual(variants.preview.format, .webp)
        }
    }

    func testCMYKJPEGBecomesSRGB() throws {
        let input = ImagingFixtures.path("cmyk.jpg")
        try ImagingFixtures.convert("-size", "300x200", "gradient:yellow-cyan", "-colorspace", "CMYK", input)
        XCTAssertTrue(try ImagingFixtures.vipsheader(input).contains("4 bands, cmyk"))
        let variant = try processor.makeVariant(from: input, header: try processor.inspect(path: input),
                                                maxSide: 1600, quality: 90)
        let written = try save(variant)
        XCTAssertTrue(try ImagingFixtures.vipsheader(written).contains("uchar, 3 bands, srgb"))
        let topLeft = try pixel(written, x: 150, y: 0)  // yellow
        XCTAssertGreaterThan(topLeft[0], 200)
        XCTAssertGreaterThan(topLeft[1], 200)
        XCTAssertLessThan(topLeft[2], 80)
    }

    /// Untagged RGB is sRGB already; a colour transform would shift saturated colours.
    func testUntaggedColoursAreKept() throws {
        let input = ImagingFixtures.path("blue.png")
        try ImagingFixtures.convert("-size", "200x100", "xc:blue", input)
        let header = try processor.inspect(path: input)
        XCTAssertFalse(header.hasColorProfile)
        let variant = try processor.makeVariant(from: input, header: header, maxSide: 320, quality: 90)
        let color = try pixel(try save(variant), x: 100, y: 50)
        XCTAssertLessThan(color[0], 12)
        XCTAssertLessThan(color[1], 12)
        XCTAssertGreaterThan(color[2], 243)
    }

    func testSixteenBitPNGKeepsItsTones() throws {
        let input = ImagingFixtures.path("grey16.png")
        try ImagingFixtures.convert("-size", "200x100", "xc:rgb(50%,50%,50%)", "-depth", "16", "PNG48:" + input)
        XCTAssertTrue(try ImagingFixtures.vipsheader(input).contains("ushort, 3 bands"))
        let variant = try processor.makeVariant(from: input, header: try processor.inspect(path: input),
                                                maxSide: 320, quality: 90)
        let written = try save(variant)
        XCTAssertTrue(try ImagingFixtures.vipsheader(written).contains("uchar, 3 bands, srgb"))
        XCTAssertEqual(try pixel(written, x: 100, y: 50)[0], 128, accuracy: 3)
    }

    func testPNGAlphaIsKept() throws {
        let input = ImagingFixtures.path("alpha.png")
        try ImagingFixtures.convert("-size", "200x100", "xc:none", "-fill", "red", "-draw", "circle 100,50 100,10",
                             "PNG32:" + input)
        let variant = try processor.makeVariant(from: input, header: try processor.inspect(path: input),
                                                maxSide: 320, quality: 90)
        let written = try save(variant)
        XCTAssertTrue(try ImagingFixtures.vipsheader(written).contains("4 bands"))
        XCTAssertEqual(try pixel(written, x: 2, y: 2)[3], 0, accuracy: 2, "corner stays transparent")
        XCTAssertEqual(try pixel(written, x: 100, y: 50)[3], 255, accuracy: 2)
    }

    func testAnimatedGIFGivesItsFirstFrame() throws {
        let input = ImagingFixtures.path("animated.gif")
        try ImagingFixtures.convert("-size", "120x80", "xc:red", "xc:lime", "xc:blue", "-loop", "0", input)
        let header = try processor.inspect(path: input)
        XCTAssertEqual([header.width, header.height, header.pages], [120, 80, 3])
        let variant = try processor.makeVariant(from: input, header: header, maxSide: 1600, quality: 90)
        XCTAssertEqual([variant.width, variant.height], [120, 80])
        let color = try pixel(try save(variant), x: 60, y: 40)  // red, give or take lossy chroma
        XCTAssertGreaterThan(color[0], 220)
        XCTAssertLessThan(color[1], 60)
        XCTAssertLessThan(color[2], 60)
    }

    func testMultiPageTIFFGivesItsFirstPage() throws {
        let input = ImagingFixtures.path("pages.tif")
        try ImagingFixtures.convert("-size", "100x50", "xc:blue", "xc:red", input)
        let header = try processor.inspect(path: input)
        XCTAssertEqual(header.pages, 2)
        let variant = try processor.makeVariant(from: input, header: header, maxSide: 1600, quality: 90)
        XCTAssertEqual([variant.width, variant.height], [100, 50])
        let color = try pixel(try save(variant), x: 50, y: 25)  // blue
        XCTAssertGreaterThan(color[2], 240)
        XCTAssertLessThan(color[0], 15)
    }

    func testSmallImageIsNeverUpscaled() throws {
        let input = ImagingFixtures.path("small.png")
        try ImagingFixtures.convert("-size", "40x30", "xc:green", input)
        let variants = try processor.makeDisplayVariants(from: input)
        XCTAssertEqual([variants.thumbnail.width, variants.thumbnail.height], [40, 30])
        XCTAssertEqual([variants.preview.width, variants.preview.height], [40, 30])
    }

    // MARK: Refusals

    func testTruncatedJPEGFailsAsCorrupt() throws {
        let input = try ImagingFixtures.truncatedJPEG()
        let header = try processor.inspect(path: input)  // the header is intact
        XCTAssertThrowsError(try processor.makeVariant(from: input, header: header, maxSide: 320, quality: 80)) { error in
            guard case .corrupt(let detail) = error as? ImagingError else { return XCTFail("\(error)") }
            XCTAssertFalse(detail.isEmpty)
            XCTAssertEqual((error as? ImagingError)?.message, "The image is damaged or truncated and cannot be decoded.")
        }
    }

    func testHugeDeclaredPNGIsRefusedFromItsHeader() throws {
        let bytes = Fixtures.pngDeclaring(width: 30000, height: 30000)
        XCTAssertLessThan(bytes.count, 100)
        let input = try ImagingFixtures.write(bytes, to: "huge.png")
        let start = Date()
        XCTAssertThrowsError(try processor.inspect(path: input)) { error in
            XCTAssertEqual(error as? ImagingError,
                           .tooManyPixels(width: 30000, height: 30000, pages: 1, limit: 100_000_000))
            XCTAssertEqual((error as? ImagingError)?.message,
                           "The image is too large: 30000 × 30000 pixels is more than the limit of 100.0 megapixels.")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    func testPagesCountTowardsThePixelLimit() throws {
        let input = ImagingFixtures.path("frames.gif")
        try ImagingFixtures.convert("-size", "100x100", "xc:red", "xc:lime", "xc:blue", input)
        XCTAssertThrowsError(try ImageProcessor(maxPixels: 25_000).inspect(path: input)) { error in
            XCTAssertEqual(error as? ImagingError, .tooManyPixels(width: 100, height: 100, pages: 3, limit: 25_000))
        }
    }

    func testMarkupNamedJPEGIsUnsupported() throws {
        let svg = try ImagingFixtures.write(Array("""
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>
            """.utf8), to: "script.jpg")
        let html = try ImagingFixtures.write(Array("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>".utf8),
                                      to: "page.jpg")
        for (path, kind) in [(svg, "svg"), (html, "html")] {
            XCTAssertThrowsError(try processor.inspect(path: path)) { error in
                XCTAssertEqual(error as? ImagingError, .unsupportedFormat(kind))
            }
        }
    }

    /// Defence in depth behind the sniffer and the allow-list: libvips names svgload for
    /// an SVG (vips_foreign_find_load does not skip blocked loaders in 8.14.1), but
    /// refuses to run it.
    func testLibvipsItselfRefusesUntrustedLoaders() throws {
        let svg = try ImagingFixtures.write(Array("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>".utf8),
                                     to: "plain.svg")
        XCTAssertEqual(media_vips_find_loader(svg).map { String(cString: $0) }, "svgload")
        XCTAssertNil(VipsImageHandle(media_vips_open_header(svg)))
        XCTAssertTrue(Vips.takeError().contains("blocked"))
    }

    /// Every path gives back its GObjects, files and memory. The resident-size bound
    /// catches webpsave's leak on a failing pipeline (about 0.5 MB per truncated upload
    /// in 8.14.1), which the decode-first order avoids.
    func testNoObjectsFilesOrMemoryAreLeft() throws {
        let input = try Fixtures.cameraJPEG()
        let truncated = try ImagingFixtures.truncatedJPEG()
        let cutHeader = try ImagingFixtures.write(Array(try Data(contentsOf: URL(fileURLWithPath: input)).prefix(2000)),
                                           to: "cut-header.jpg")
        func round() {
            XCTAssertNoThrow(try processor.makeDisplayVariants(from: input))
            XCTAssertThrowsError(try processor.makeDisplayVariants(from: truncated))
            XCTAssertThrowsError(try processor.makeDisplayVariants(from: cutHeader))
        }
        for _ in 0..<5 { round() }
        let files = openFileCount(), allocations = Int(media_vips_tracked_allocations()), memory = Int(media_vips_tracked_memory())
        let resident = residentKilobytes()
        for _ in 0..<60 { round() }
        // No growth per round. libvips' worker threads each keep a buffer cache until they end,
        // so which threads ran moves the totals a little either way (17 buffers, 0.7 MB once):
        // less than one allocation a round and a few MB in all, where one leak a round would be
        // 60 allocations (webpsave's leaked 30 MB).
        XCTAssertLessThanOrEqual(openFileCount(), files)
        XCTAssertLessThan(Int(media_vips_tracked_allocations()) - allocations, 60)
        XCTAssertLessThan(Int(media_vips_tracked_memory()) - memory, 4 << 20)
        XCTAssertLessThan(residentKilobytes() - resident, 8_000)
    }

    // MARK: Decode memory

    func testTheDecodeFootprintComesFromTheHeader() throws {
        let limited = ImageProcessor(maxPixels: 100_000_000, maxDecodeBytes: 16 << 20)
        // 1500 pixels wide: every decode holds rows of 3 bytes a pixel while it shrinks.
        let rows = 1500 * 3 * DecodeFootprint.streamedRows
        func image(_ name: String, _ options: String) throws -> String {
            let path = ImagingFixtures.path(name)
            try ImagingFixtures.vips("black", path + options, "1500", "1500", "--bands", "3")
            return path
        }
        let cases: [(String, String, Int?, DecodeFootprint.WholeImage?)] = [
            ("baseline.jpg", "[Q=90]", nil, nil),
            ("progressive-444.jpg", "[interlace,Q=90]", 1500 * 1500 * 6 + rows, .progressiveJPEG),
            ("progressive-420.jpg", "[interlace,Q=75]", 1500 * 1500 * 4 + rows, .progressiveJPEG),
            ("plain.png", "", nil, nil),
            ("interlaced.png", "[interlace]", 1500 * 1500 * 3 + rows, .interlacedPNG),
            ("lossy.webp", "", nil, nil),
            ("lossless.webp", "[lossless]", 1500 * 1500 * 4 + rows, .webpCanvas),
            // libvips reads a GIF as RGBA.
            ("frame.gif", "", 1500 * 1500 * 4 + 1500 * 4 * DecodeFootprint.streamedRows, .gifFrame),
        ]
        for (name, options, needed, whole) in cases {
            let path = try image(name, options)
            guard let needed else {
                XCTAssertNoThrow(try limited.inspect(path: path), name)
                continue
            }
            XCTAssertThrowsError(try limited.inspect(path: path), name) { error in
                XCTAssertEqual(error as? ImagingError, .decodeTooLarge(neededBytes: needed, limit: 16 << 20, wholeImage: whole))
            }
            XCTAssertNoThrow(try processor.inspect(path: path), "\(name) fits the default limit")
        }
        let message = ImagingError.decodeTooLarge(neededBytes: 25_000_000, limit: 16 << 20, wholeImage: .progressiveJPEG).message
        XCTAssertEqual(message, "Decoding this image would take about 24 MiB of memory (a progressive JPEG is decoded whole), "
                       + "more than the limit of 16 MiB. A baseline JPEG, a non-interlaced PNG or a smaller image fits.")
        // Sides no real header declares still give a number, not a trap.
        for format in ImageFormat.allCases {
            let absurd = DecodeFootprint(format: format, width: .max, height: .max, bands: .max, bytesPerBand: .max,
                                         interlaced: true, subsampledChroma: false, webpCanvas: true)
            XCTAssertEqual(absurd.bytes, .max, "\(format)")
        }
    }

    // MARK: Helpers

    private func save(_ variant: EncodedVariant) throws -> String {
        try ImagingFixtures.write(variant.bytes, to: "variant-\(UUID().uuidString).webp")
    }

    private func fieldsOf(_ variant: EncodedVariant) throws -> String {
        try ImagingFixtures.vipsheader(try save(variant))
    }

    private func pixel(_ path: String, x: Int, y: Int) throws -> [Double] {
        try ImagingFixtures.vips("getpoint", path, String(x), String(y)).split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
    }

    private func residentKilobytes() -> Int {
        let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
        return (statm.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0) * Int(getpagesize()) / 1024
    }

    private func openFileCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }
}
