@testable import Imaging
import XCTest

final class MediaTypeSnifferTests: XCTestCase {
    private func detect(_ bytes: [UInt8]) -> SniffedType { MediaTypeSniffer.detect(prefix: bytes) }
    private func detect(_ text: String) -> SniffedType { detect(Array(text.utf8)) }

    /// An ISO-BMFF `ftyp` box with these brands.
    private func ftyp(major: String, compatible: [String]) -> [UInt8] {
        let size = 16 + 4 * compatible.count
        return [0, 0, 0, UInt8(size)] + Array("ftyp\(major)".utf8) + [0, 0, 0, 0]
            + compatible.flatMap { Array($0.utf8) } + [0, 0, 0, 8] + Array("free".utf8)
    }

    func testRasterSignatures() {
        XCTAssertEqual(detect([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), .image(.jpeg))
        XCTAssertEqual(detect([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]), .image(.png))
        XCTAssertEqual(detect("GIF89a\u{1}\u{0}"), .image(.gif))
        XCTAssertEqual(detect("GIF87a\u{1}\u{0}"), .image(.gif))
        XCTAssertEqual(detect("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 "), .image(.webp))
        XCTAssertEqual(detect("RIFF\u{0}\u{0}\u{0}\u{0}AVI LIST"), .unsupported("avi"))
        XCTAssertEqual(detect([0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0]), .image(.tiff))
        XCTAssertEqual(detect([0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8]), .image(.tiff))
    }

    func testISOMediaBrands() {
        XCTAssertEqual(detect(ftyp(major: "heic", compatible: ["mif1", "heic"])), .image(.heif))
        XCTAssertEqual(detect(ftyp(major: "mif1", compatible: ["heic", "miaf"])), .image(.heif))
        XCTAssertEqual(detect(ftyp(major: "msf1", compatible: ["iso8"])), .image(.heif))
        XCTAssertEqual(detect(ftyp(major: "avif", compatible: ["mif1", "miaf"])), .image(.avif))
        XCTAssertEqual(detect(ftyp(major: "mif1", compatible: ["avif", "miaf"])), .image(.avif))
        XCTAssertEqual(detect(ftyp(major: "avis", compatible: ["msf1"])), .image(.avif))
        XCTAssertEqual(detect(ftyp(major: "isom", compatible: ["iso2", "avc1", "mp41"])), .video(.mp4))
        XCTAssertEqual(detect(ftyp(major: "qt  ", compatible: ["qt  "])), .video(.quicktime))
        XCTAssertEqual(detect(ftyp(major: "M4A ", compatible: ["M4A "])), .unsupported("iso media (m4a)"))
    }

    func testMatroskaFlavours() {
        let ebml: [UInt8] = [0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84]
        XCTAssertEqual(detect(ebml + Array("webm".utf8)), .video(.webm))
        XCTAssertEqual(detect(ebml[..<9] + [0x42, 0x82, 0x88] + Array("matroska".utf8)), .video(.matroska))
    }

    func testEverythingElseIsUnsupportedAndNamed() {
        XCTAssertEqual(detect("<?xml version=\"1.0\"?>\n<!-- x -->\n<SVG xmlns=\"http://www.w3.org/2000/svg\">"),
                       .unsupported("svg"))
        XCTAssertEqual(detect("\u{FEFF}  <svg><script>alert(1)</script></svg>"), .unsupported("svg"))
        XCTAssertEqual(detect("\n<!DOCTYPE html><html><script>alert(1)</script>"), .unsupported("html"))
        XCTAssertEqual(detect("<HTML><BODY>"), .unsupported("html"))
        XCTAssertEqual(detect("<?xml version=\"1.0\"?><feed/>"), .unsupported("xml"))
        XCTAssertEqual(detect("%PDF-1.7\n"), .unsupported("pdf"))
        // Containers and playlists ffmpeg reads but the service does not take.
        XCTAssertEqual(detect("#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n"), .unsupported("hls playlist"))
        XCTAssertEqual(detect("ffconcat version 1.0\nfile '/etc/passwd'\n"), .unsupported("ffconcat list"))
        XCTAssertEqual(detect("<?xml version=\"1.0\"?><MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\">"), .unsupported("dash manifest"))
        XCTAssertEqual(detect("FLV\u{1}\u{5}\u{0}\u{0}\u{0}\u{9}"), .unsupported("flv"))
        XCTAssertEqual(detect([UInt8](repeating: 0, count: 400).enumerated().map { $0.offset % 188 == 0 ? 0x47 : $0.element }),
                       .unsupported("mpeg-ts"))
        XCTAssertEqual(detect("OggS\u{0}\u{2}"), .unsupported("ogg"))
        XCTAssertEqual(detect("ID3\u{4}\u{0}"), .unsupported("mp3"))
        XCTAssertEqual(detect("RIFF\u{0}\u{0}\u{0}\u{0}WAVEfmt "), .unsupported("wave"))
        XCTAssertEqual(detect([]), .unsupported("empty"))
        XCTAssertEqual(detect("hello, world"), .unsupported("unknown"))
    }
}
