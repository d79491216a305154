@testable import Imaging
import XCTest

final class ProceduralImageTests: XCTestCase {
    override class func tearDown() {
        ImagingFixtures.removeAll()
        super.tearDown()
    }

    func testSameRequestGivesTheSamePNG() throws {
        let first = try ProceduralImage.render(prompt: "a lighthouse at dusk", seed: 42, width: 256, height: 192)
        let second = try ProceduralImage.render(prompt: "a lighthouse at dusk", seed: 42, width: 256, height: 192)
        XCTAssertEqual(first, second)
        XCTAssertEqual(Array(first.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])

        let path = try ImagingFixtures.write(first, to: "procedural.png")
        let header = try ImageProcessor(maxPixels: 1_000_000).inspect(path: path)
        XCTAssertEqual([header.width, header.height], [256, 192])
    }

    func testPromptAndSeedChangeThePicture() throws {
        let base = try ProceduralImage.render(prompt: "a lighthouse at dusk", seed: 42, width: 128, height: 128)
        let otherSeed = try ProceduralImage.render(prompt: "a lighthouse at dusk", seed: 43, width: 128, height: 128)
        let otherPrompt = try ProceduralImage.render(prompt: "a forest in fog", seed: 42, width: 128, height: 128)
        XCTAssertNotEqual(base, otherSeed)
        XCTAssertNotEqual(base, otherPrompt)
        XCTAssertNotEqual(otherSeed, otherPrompt)
        // Visibly different: the pixels, not just the bytes, differ at many places.
        let colours = try [base, otherSeed, otherPrompt].enumerated().map { index, png in
            let path = try ImagingFixtures.write(png, to: "procedural-\(index).png")
            return try [(10, 10), (64, 64), (120, 100)].map { x, y in
                try ImagingFixtures.vips("getpoint", path, String(x), String(y))
            }
        }
        XCTAssertNotEqual(colours[0], colours[1])
        XCTAssertNotEqual(colours[0], colours[2])
    }

    func testSizesOutsideTheRangeAreRefused() {
        XCTAssertThrowsError(try ProceduralImage.render(prompt: "x", seed: 1, width: 0, height: 64)) { error in
            XCTAssertEqual(error as? ImagingError, .invalidDimensions(width: 0, height: 64))
        }
        XCTAssertThrowsError(try ProceduralImage.render(prompt: "x", seed: 1, width: 64, height: 100_000))
    }
}
