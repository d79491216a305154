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
}
