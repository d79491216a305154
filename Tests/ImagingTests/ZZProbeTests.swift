import Foundation
@testable import Imaging
import CVips
import CLibVips
import XCTest

final class ZZProbeTests: XCTestCase {
    func testProbe() throws {
        let input = try Fixtures.truncatedJPEG()
        let processor = ImageProcessor(maxPixels: 100_000_000)
        let camera = try Fixtures.cameraJPEG()
        let base = try Fixtures.baseJPEG()
        func rss() -> Int { Int((try! String(contentsOfFile: "/proc/self/statm", encoding: .utf8)).split(separator: " ")[1])! * 4 }
        let header = try processor.inspect(path: camera)
        let scenarios: [(String, () throws -> Void)] = [
            ("inspect", { _ = try processor.inspect(path: camera) }),
            ("thumbnail-only", { _ = VipsImageHandle(media_vips_thumbnail(camera, 320, 1)) }),
            ("variant-camera", { _ = try processor.makeVariant(from: camera, header: header, maxSide: 320, quality: 80) }),
            ("variant-base", { _ = try processor.makeVariant(from: base, header: try processor.inspect(path: base), maxSide: 320, quality: 80) }),
            ("truncated", { _ = try? processor.makeDisplayVariants(from: input) }),
        ]
        for (name, body) in scenarios {
            for _ in 0..<50 { try body() }
            let before = rss()
            for _ in 0..<200 { try body() }
            print("RSS \(name): +\(rss() - before) kB over 200")
        }
    }
}
