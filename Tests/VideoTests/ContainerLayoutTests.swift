import Foundation
import Video
import XCTest

final class ContainerLayoutTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("layout-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: directory)
    }

    private func box(_ type: String, _ payload: [UInt8] = []) -> [UInt8] {
        let size = UInt32(8 + payload.count)
        return withUnsafeBytes(of: size.bigEndian, Array.init) + Array(type.utf8) + payload
    }

    private func check(_ bytes: [UInt8], _ family: ContainerFamily) throws {
        let path = directory.appendingPathComponent("file").path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        try ContainerLayout.check(path: path, family: family, prefix: Array(bytes.prefix(512)))
    }

    private func assertRefused(_ bytes: [UInt8], _ family: ContainerFamily, mentioning text: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try check(bytes, family), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(text), "\(error)", file: file, line: line)
        }
    }

    func testISOBoxesMustSpanTheFile() throws {
        let movie = box("ftyp", Array("isom\0\0\0\0".utf8)) + box("moov", [1, 2, 3]) + box("mdat", [4, 5])
        try check(movie, .isoMedia)
        assertRefused(movie + [0, 0], .isoMedia, mentioning: "cut off")
        assertRefused(Array(movie.dropLast()), .isoMedia, mentioning: "past the end")
        assertRefused(box("ftyp", Array("isom\0\0\0\0".utf8)) + box("mdat", [4]), .isoMedia, mentioning: "moov")
        assertRefused(movie + box("free", Array("PK\u{5}\u{6}".utf8) + [UInt8](repeating: 0, count: 18)), .isoMedia,
                      mentioning: "ZIP")
        assertRefused(box("ftyp", Array("isom\0\0\0\0".utf8)) + box("free", Array("<HTML><script>x</script>".utf8))
                      + box("moov"), .isoMedia, mentioning: "markup")
        // A 64-bit size that claims more than the file.
        assertRefused(box("ftyp") + [0, 0, 0, 1] + Array("mdat".utf8) + [0x7F, 0, 0, 0, 0, 0, 0, 0], .isoMedia,
                      mentioning: "past the end")
    }

    func testMatroskaSegmentMustEndTheFile() throws {
        let header: [UInt8] = [0x1A, 0x45, 0xDF, 0xA3, 0x84, 0x42, 0x82, 0x81, 0x77]  // EBML, 4 bytes of DocType stub
        let segment: [UInt8] = [0x18, 0x53, 0x80, 0x67, 0x83, 1, 2, 3]
        try check(header + segment, .matroska)
        try check(header + [0x18, 0x53, 0x80, 0x67, 0xFF, 1, 2, 3, 4, 5], .matroska)  // unknown size
        assertRefused(header + segment + [9, 9], .matroska, mentioning: "follow")
        assertRefused(header + Array(segment.dropLast()), .matroska, mentioning: "past the end")
        assertRefused([0x1A, 0x45, 0xDF, 0xA3, 0x80], .matroska, mentioning: "segment")
    }

    func testDeclaredDurations() throws {
        func mvhd(version: UInt8, timescale: UInt32, duration: UInt64) -> [UInt8] {
            var payload: [UInt8] = [version, 0, 0, 0]
            let times = version == 1 ? 16 : 8
            payload += [UInt8](repeating: 0, count: times) + withUnsafeBytes(of: timescale.bigEndian, Array.init)
            payload += version == 1 ? withUnsafeBytes(of: duration.bigEndian, Array.init)
                : withUnsafeBytes(of: UInt32(truncatingIfNeeded: duration).bigEndian, Array.init)
            return box("mvhd", payload + [UInt8](repeating: 0, count: 80))
        }
        let ftyp = box("ftyp", Array("isom\0\0\0\0".utf8))
        let path = directory.appendingPathComponent("movie").path
        for (movie, expected) in [(mvhd(version: 0, timescale: 1000, duration: 2500), 2.5 as Double?),
                                  (mvhd(version: 1, timescale: 90000, duration: 90000 * 3600), 3600),
                                  (mvhd(version: 0, timescale: 0, duration: 5), nil),
                                  (mvhd(version: 0, timescale: 600, duration: 0xFFFF_FFFF), nil)] {
            let bytes = ftyp + box("moov", movie) + box("mdat", [1])
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            XCTAssertEqual(try ContainerLayout.check(path: path, family: .isoMedia, prefix: Array(bytes.prefix(512))), expected)
        }
        // Matroska: EBML header, Segment { Info { TimestampScale 1 ms, Duration 4000.0 (float) } }.
        let header: [UInt8] = [0x1A, 0x45, 0xDF, 0xA3, 0x84, 0x42, 0x82, 0x81, 0x77]
        let scale: [UInt8] = [0x2A, 0xD7, 0xB1, 0x83, 0x0F, 0x42, 0x40]
        let duration: [UInt8] = [0x44, 0x89, 0x84] + withUnsafeBytes(of: Float(4000).bitPattern.bigEndian, Array.init)
        let info: [UInt8] = [0x15, 0x49, 0xA9, 0x66, 0x80 | UInt8(scale.count + duration.count)] + scale + duration
        let segment: [UInt8] = [0x18, 0x53, 0x80, 0x67, 0x80 | UInt8(info.count)] + info
        FileManager.default.createFile(atPath: path, contents: Data(header + segment))
        XCTAssertEqual(try ContainerLayout.check(path: path, family: .matroska, prefix: header + segment), 4)
    }
}
