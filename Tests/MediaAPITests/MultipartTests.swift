import FastCGI
import Foundation
import MediaAPI
import XCTest

// MARK: - Test doubles

/// Hands out the bytes in chunks of the given sizes (cycling), as a socket might.
private struct ChunkedSource: ByteSource {
    let bytes: [UInt8]
    let chunks: [Int]
    var offset = 0
    var reads = 0

    init(_ bytes: [UInt8], chunks: [Int] = []) {
        self.bytes = bytes
        self.chunks = chunks
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var wanted = buffer.count
        if !chunks.isEmpty { wanted = min(wanted, chunks[reads % chunks.count]) }
        reads += 1
        let count = min(wanted, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
        offset += count
        return count
    }
}

private enum TestFailure: Error, Equatable {
    case sourceBroke
    case diskFull
    case secondFile
}

/// Gives `limit` bytes, then throws, like a socket that breaks.
private struct BreakingSource: ByteSource {
    var inner: ChunkedSource
    let limit: Int

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard inner.offset < limit else { throw TestFailure.sourceBroke }
        let room = min(buffer.count, limit - inner.offset)
        return try inner.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<room]))
    }
}

private struct ReceivedFile: Equatable {
    var fieldName: String
    var filename: String
    var contentType: String?
    var bytes: [UInt8] = []
    var ended = false
}

/// Keeps every file part it receives; can refuse files after the first, or fail a write.
private struct RecordingSink: FilePartSink {
    var files: [ReceivedFile] = []
    var refuseSecondFile = false
    var failWriteAfter: Int?
    var written = 0

    mutating func begin(fieldName: String, filename: String, contentType: String?) throws {
        if refuseSecondFile, !files.isEmpty { throw TestFailure.secondFile }
        files.append(ReceivedFile(fieldName: fieldName, filename: filename, contentType: contentType))
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        XCTAssertFalse(bytes.isEmpty, "the parser never writes an empty chunk")
        XCTAssertFalse(files.isEmpty || files[files.count - 1].ended, "write only between begin and end")
        written += bytes.count
        if let limit = failWriteAfter, written > limit { throw TestFailure.diskFull }
        files[files.count - 1].bytes.append(contentsOf: bytes)
    }

    mutating func end() throws {
        XCTAssertFalse(files.isEmpty || files[files.count - 1].ended)
        files[files.count - 1].ended = true
    }
}

/// Compares a large file with the expected bytes as it streams, keeping nothing.
private final class VerifyingSink: FilePartSink {
    let expected: [UInt8]
    var received = 0
    var writes = 0
    var mismatchAt: Int?
    var ended = false

    init(expected: [UInt8]) { self.expected = expected }

    func begin(fieldName: String, filename: String, contentType: String?) throws {}

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        writes += 1
        if mismatchAt == nil {
            if received + bytes.count > expected.count {
                mismatchAt = received
            } else {
                let same = expected.withUnsafeBytes { memcmp($0.baseAddress! + received, bytes.baseAddress!, bytes.count) == 0 }
                if !same { mismatchAt = received }
            }
        }
        received += bytes.count
    }

    func end() throws { ended = true }
}

// MARK: - Building bodies

private struct Part {
    var headers: [String]
    var body: [UInt8]

    static func field(_ name: String, _ value: String) -> Part {
        Part(headers: ["Content-Disposition: form-data; name=\"\(name)\""], body: Array(value.utf8))
    }

    static func file(_ name: String, _ filename: String, type: String? = "application/octet-stream",
                     _ body: [UInt8]) -> Part {
        var headers = ["Content-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\""]
        if let type { headers.append("Content-Type: \(type)") }
        return Part(headers: headers, body: body)
    }
}

private func multipartBody(_ parts: [Part], boundary: String = "XyZ-boundary-123", preamble: String = "",
                   epilogue: String = "\r\n", close: Bool = true) -> [UInt8] {
    var out = Array(preamble.utf8)
    for part in parts {
        out += Array("--\(boundary)\r\n".utf8)
        for header in part.headers { out += Array("\(header)\r\n".utf8) }
        out += Array("\r\n".utf8)
        out += part.body
        out += Array("\r\n".utf8)
    }
    if close { out += Array("--\(boundary)--\(epilogue)".utf8) }
    return out
}

// MARK: - Tests

final class MultipartTests: XCTestCase {
    static let boundary = "XyZ-boundary-123"

    private func parse(_ body: [UInt8], boundary: String = MultipartTests.boundary, chunks: [Int] = [],
               limits: MultipartLimits = MultipartLimits(), sink: inout RecordingSink) throws -> MultipartForm {
        let parser = MultipartParser(boundary: try MultipartBoundary(boundary), limits: limits)
        return try parser.parse(ChunkedSource(body, chunks: chunks), into: &sink)
    }

    private func parse(_ body: [UInt8], boundary: String = MultipartTests.boundary, chunks: [Int] = [],
               limits: MultipartLimits = MultipartLimits()) throws -> (MultipartForm, RecordingSink) {
        var sink = RecordingSink()
        let form = try parse(body, boundary: boundary, chunks: chunks, limits: limits, sink: &sink)
        return (form, sink)
    }

    private func assertMultipartError(_ body: [UInt8], _ expected: MultipartError, boundary: String = MultipartTests.boundary,
                              chunks: [Int] = [], limits: MultipartLimits = MultipartLimits(),
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(body, boundary: boundary, chunks: chunks, limits: limits), file: file, line: line) {
            XCTAssertEqual($0 as? MultipartError, expected, "\($0)", file: file, line: line)
        }
    }

    private func assertMalformed(_ body: [UInt8], chunks: [Int] = [], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(body, chunks: chunks), file: file, line: line) {
            guard case .malformed = $0 as? MultipartError else {
                return XCTFail("expected malformed, got \($0)", file: file, line: line)
            }
        }
    }

    let photo: [UInt8] = Array(0...255) + Array("\r\n\r\nend".utf8)

    func testOneFileAndFields() throws {
        let body = multipartBody([
            .field("title", "Opening scene"),
            .file("file", "scene.png", type: "image/png", photo),
            .field("alt", "Ein Café, ☕️"),
        ])
        let (form, sink) = try parse(body)
        XCTAssertEqual(form.fields, ["title": "Opening scene", "alt": "Ein Café, ☕️"])
        XCTAssertEqual(form.fileCount, 1)
        XCTAssertEqual(form.files, [MultipartFilePart(fieldName: "file", filename: "scene.png",
                                                      contentType: "image/png", byteCount: photo.count)])
        XCTAssertEqual(sink.files, [ReceivedFile(fieldName: "file", filename: "scene.png", contentType: "image/png",
                                                 bytes: photo, ended: true)])
    }

    func testContentTypeBoundaryParsing() throws {
        XCTAssertEqual(try MultipartBoundary(contentType: "multipart/form-data; boundary=abc").value, "abc")
        XCTAssertEqual(try MultipartBoundary(contentType: "multipart/form-data;boundary=abc ").value, "abc")
        XCTAssertEqual(try MultipartBoundary(contentType: "Multipart/Form-Data; BOUNDARY=\"a b:c=d?\"").value, "a b:c=d?")
        XCTAssertEqual(try MultipartBoundary(contentType:
            "multipart/form-data; charset=utf-8; boundary=\"----WebKitFormBoundary7MA4YWxkTrZu0gW\"").value,
            "----WebKitFormBoundary7MA4YWxkTrZu0gW")
        XCTAssertEqual(try MultipartBoundary(String(repeating: "x", count: 70)).value.count, 70)
        XCTAssertEqual(try MultipartParser(contentType: "multipart/form-data; boundary=q").boundary.value, "q")

        func assertRejected(_ contentType: String, _ expected: MultipartError, line: UInt = #line) {
            XCTAssertThrowsError(try MultipartBoundary(contentType: contentType), line: line) {
                XCTAssertEqual($0 as? MultipartError, expected, line: line)
            }
        }
        assertRejected("multipart/form-data", .missingBoundary)
        assertRejected("multipart/form-data; charset=utf-8", .missingBoundary)
        assertRejected("multipart/form-data; boundary=", .invalidBoundary(""))
        assertRejected("multipart/form-data; boundary=\"\"", .invalidBoundary(""))
        assertRejected("multipart/form-data; boundary=\"abc \"", .invalidBoundary("abc "))
        assertRejected("multipart/form-data; boundary=ab@c", .invalidBoundary("ab@c"))
        assertRejected("multipart/form-data; boundary=\"ab\\\"c\"", .invalidBoundary("ab\"c"))
        assertRejected("multipart/form-data; boundary=b\u{e9}", .invalidBoundary("b\u{e9}"))
        let long = String(repeating: "x", count: 71)
        assertRejected("multipart/form-data; boundary=\(long)", .invalidBoundary(long))
        assertRejected("application/json", .unsupportedContentType("application/json"))
        assertRejected("multipart/mixed; boundary=abc", .unsupportedContentType("multipart/mixed"))
        assertRejected("", .unsupportedContentType(""))
        assertRejected("multipart/form-data; boundary=a; boundary=b",
                       .malformed("its Content-Type has more than one boundary parameter."))
        XCTAssertThrowsError(try MultipartBoundary(contentType: "multipart/form-data; boundary=\"abc")) {
            guard case .malformed = $0 as? MultipartError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try MultipartBoundary(contentType: "text/plain; boundary=\"abc")) {
            XCTAssertEqual($0 as? MultipartError, .unsupportedContentType("text/plain"))
        }
    }

    func testQuotedBoundaryEndToEnd() throws {
        let boundary = "----Web Kit(Form)+Boundary'7MA,4Y.W/x:k=T?"
        let parser = try MultipartParser(contentType: "multipart/form-data; boundary=\"\(boundary)\"")
        let body = multipartBody([.field("a", "1"), .file("f", "x.bin", photo)], boundary: boundary)
        var sink = RecordingSink()
        let form = try parser.parse(ChunkedSource(body, chunks: [3]), into: &sink)
        XCTAssertEqual(form.fields, ["a": "1"])
        XCTAssertEqual(sink.files.map(\.bytes), [photo])
    }

    /// The content that looks most like a delimiter without being one.
    static let lookAlikes: [UInt8] = Array((
        "--XyZ-boundary-123\r\n" +          // not after a CRLF
        "x\n--XyZ-boundary-123\r\n" +       // after a bare LF
        "x\r--XyZ-boundary-123\r\n" +       // after a bare CR
        "\r\n-XyZ-boundary-123\r\n" +       // one dash
        "\r\n--XyZ-boundary-12\r\n" +       // a prefix of the boundary
        "\r\n--xyz-boundary-123\r\n" +      // another case
        "\r\n--XyZ-boundary-124\r\n" +      // last character differs
        "\r\r\n\r\n--\r\n\r\n" +
        "\r\n--XyZ-boundary-1"              // cut right before the real delimiter
    ).utf8) + [0, 13, 10, 13]

    func testFileContentWithBoundaryLookAlikesAndCRLFs() throws {
        let body = multipartBody([
            .file("file", "tricky.txt", type: "text/plain", Self.lookAlikes),
            .field("note", "line one\r\nline two\r\n--XyZ-boundary-12\r\n"),
        ])
        for chunks in [[], [1], [5], [64]] {
            let (form, sink) = try parse(body, chunks: chunks)
            XCTAssertEqual(sink.files.map(\.bytes), [Self.lookAlikes], "chunks \(chunks)")
            XCTAssertEqual(form.fields["note"], "line one\r\nline two\r\n--XyZ-boundary-12\r\n")
        }
    }

    func testBoundarySplitAcrossReadsAtEveryChunkSize() throws {
        let body = multipartBody([
            .field("title", "A title"),
            .file("file", "tricky.bin", type: "application/octet-stream", Self.lookAlikes + photo),
            .field("empty", ""),
            .file("second", "b.bin", [13]),
            .field("last", "\r"),
        ], preamble: "preamble\r\n--XyZ-boundary-12 no\r\n", epilogue: "\r\nepilogue --XyZ-boundary-123\r\n")
        let (expectedForm, expectedSink) = try parse(body)
        XCTAssertEqual(expectedForm.fields, ["title": "A title", "empty": "", "last": "\r"])
        XCTAssertEqual(expectedSink.files.map(\.bytes), [Self.lookAlikes + photo, [13]])
        for bufferSize in [1, 61, 64 * 1024] {  // 1 is raised to the smallest buffer the boundary allows
            for chunk in 1...9 {
                let limits = MultipartLimits(bufferSize: bufferSize)
                for chunks in [[chunk], [chunk, 1, chunk + 3]] {
                    let (form, sink) = try parse(body, chunks: chunks, limits: limits)
                    XCTAssertEqual(form, expectedForm, "buffer \(bufferSize), chunks \(chunks)")
                    XCTAssertEqual(sink.files, expectedSink.files, "buffer \(bufferSize), chunks \(chunks)")
                }
            }
        }
    }

    func testPreambleEpilogueTransportPaddingAndNoFinalCRLF() throws {
        let parts = [Part.field("a", "1")]
        var body = multipartBody(parts, preamble: "This is the preamble. --XyZ-boundary-123\r\n\r\n", epilogue: "")
        XCTAssertEqual(try parse(body).0.fields, ["a": "1"], "a closing delimiter may end the body")
        body = multipartBody(parts, epilogue: "\r\n--XyZ-boundary-123\r\ngarbage after the end")
        XCTAssertEqual(try parse(body).0.fields, ["a": "1"], "the epilogue is ignored")
        body = Array("--XyZ-boundary-123 \t \r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--XyZ-boundary-123--".utf8)
        XCTAssertEqual(try parse(body).0.fields, ["a": "1"], "transport padding after a boundary")
        // An empty form: just the closing delimiter.
        let empty = try parse(Array("--XyZ-boundary-123--\r\n".utf8)).0
        XCTAssertEqual(empty, MultipartForm())
    }

    func testEmptyFilePart() throws {
        let body = multipartBody([.file("file", "empty.txt", type: "text/plain", []), .field("a", "b")])
        let (form, sink) = try parse(body, chunks: [1])
        XCTAssertEqual(form.files, [MultipartFilePart(fieldName: "file", filename: "empty.txt",
                                                      contentType: "text/plain", byteCount: 0)])
        XCTAssertEqual(sink.files, [ReceivedFile(fieldName: "file", filename: "empty.txt", contentType: "text/plain",
                                                 bytes: [], ended: true)])
        XCTAssertEqual(form.fields, ["a": "b"])
    }

    func testEmptyFilenameIsStillAFilePart() throws {
        // Browsers send an empty file input as filename="" with no content.
        let body = multipartBody([.file("file", "", []), .field("a", "b")])
        let (form, _) = try parse(body)
        XCTAssertEqual(form.files.map(\.filename), [""])
        XCTAssertEqual(form.fields, ["a": "b"])
    }

    func testNoFilePart() throws {
        let body = multipartBody([.field("title", "t"), .field("alt", "a")])
        let (form, sink) = try parse(body)
        XCTAssertEqual(form.fileCount, 0)
        XCTAssertTrue(sink.files.isEmpty)
        XCTAssertEqual(form.fields, ["title": "t", "alt": "a"])
    }

    func testTwoFilePartsAreCountedAndASinkCanRefuseTheSecond() throws {
        let body = multipartBody([.file("file", "a.png", type: "image/png", [1, 2, 3]),
                                  .field("x", "y"),
                                  .file("file", "b.png", type: nil, [4, 5])])
        let (form, sink) = try parse(body)
        XCTAssertEqual(form.fileCount, 2)
        XCTAssertEqual(form.files.map(\.filename), ["a.png", "b.png"])
        XCTAssertEqual(form.files.map(\.contentType), ["image/png", nil])
        XCTAssertEqual(sink.files.map(\.bytes), [[1, 2, 3], [4, 5]])

        var refusing = RecordingSink()
        refusing.refuseSecondFile = true
        XCTAssertThrowsError(try parse(body, sink: &refusing)) {
            XCTAssertEqual($0 as? TestFailure, .secondFile, "the sink's error propagates unchanged")
        }
        XCTAssertEqual(refusing.files.map(\.bytes), [[1, 2, 3]], "no byte of the second file reached the sink")
    }

    func testSinkWriteErrorPropagatesUnchanged() throws {
        let body = multipartBody([.file("file", "a.bin", photo)])
        var sink = RecordingSink()
        sink.failWriteAfter = 10
        XCTAssertThrowsError(try parse(body, chunks: [7], sink: &sink)) {
            XCTAssertEqual($0 as? TestFailure, .diskFull)
        }
        XCTAssertEqual(sink.files.count, 1)
        XCTAssertFalse(sink.files[0].ended, "end is not called for a failed part")
    }

    func testSourceErrorPropagatesUnchanged() throws {
        let body = multipartBody([.file("file", "a.bin", photo)])
        for limit in [0, 10, 100, body.count - 3] {
            let source = BreakingSource(inner: ChunkedSource(body, chunks: [9]), limit: limit)
            var sink = RecordingSink()
            XCTAssertThrowsError(try MultipartParser(boundary: try MultipartBoundary(Self.boundary)).parse(source, into: &sink)) {
                XCTAssertEqual($0 as? TestFailure, .sourceBroke, "cut at \(limit)")
            }
        }
    }

    func testMissingBoundaryParameter() {
        XCTAssertThrowsError(try MultipartParser(contentType: "multipart/form-data; name=x")) {
            XCTAssertEqual($0 as? MultipartError, .missingBoundary)
            XCTAssertEqual(($0 as? MultipartError)?.message,
                           "The multipart/form-data Content-Type has no boundary parameter.")
        }
    }

    func testWrongBoundary() {
        let body = multipartBody([.field("a", "1")], boundary: "other-boundary")
        assertMultipartError(body, .boundaryNotFound)
        assertMultipartError(body, .boundaryNotFound, chunks: [2])
        assertMultipartError([], .boundaryNotFound)
        // A longer boundary that starts with ours is garbage on the boundary line.
        assertMalformed(multipartBody([.field("a", "1")], boundary: Self.boundary + "4"))
    }

    func testGarbageWhereABoundaryLineMustBe() {
        assertMalformed(Array("--XyZ-boundary-123garbage\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--XyZ-boundary-123--".utf8))
        assertMalformed(Array("--XyZ-boundary-123\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--XyZ-boundary-123 x\r\n".utf8))
        assertMalformed(Array("--XyZ-boundary-123-\r\n".utf8))
        assertMalformed(Array("--XyZ-boundary-123\nContent-Disposition: form-data; name=a\n\n1\n--XyZ-boundary-123--".utf8))
    }

    func testTruncatedBodies() throws {
        let body = multipartBody([.field("title", "t"), .file("file", "a.bin", photo)], epilogue: "")
        // Every cut before the closing "--" is truncated (or, before the first delimiter is
        // complete, has no boundary at all); the whole body parses.
        let firstDelimiterEnd = "--\(Self.boundary)".utf8.count
        for cut in 0..<body.count - 1 {
            let expected: MultipartError = cut < firstDelimiterEnd ? .boundaryNotFound : .truncated
            assertMultipartError(Array(body[..<cut]), expected, chunks: [cut % 9 + 1])
        }
        XCTAssertEqual(try parse(body).0.fields, ["title": "t"])
        // No closing delimiter at all, the body simply stopping after a part.
        assertMultipartError(multipartBody([.field("a", "1")], close: false), .truncated)
        // A RequestBody whose declared length stops early is caught the same way.
        let parser = MultipartParser(boundary: try MultipartBoundary(Self.boundary))
        var sink = RecordingSink()
        XCTAssertThrowsError(try parser.parse(RequestBody(bytes: Array(body.dropLast(5))), into: &sink)) {
            XCTAssertEqual($0 as? MultipartError, .truncated)
        }
    }

    func testRequestBodyEndToEnd() throws {
        let body = multipartBody([.field("title", "t"), .file("file", "scene.png", type: "image/png", photo)],
                                 preamble: "ignored\r\n", epilogue: "\r\nignored too")
        let request = RequestBody(bytes: body)
        let parser = try MultipartParser(contentType: "multipart/form-data; boundary=\(Self.boundary)")
        var sink = RecordingSink()
        let form = try parser.parse(request, into: &sink)
        XCTAssertEqual(form.fields, ["title": "t"])
        XCTAssertEqual(form.files, [MultipartFilePart(fieldName: "file", filename: "scene.png",
                                                      contentType: "image/png", byteCount: photo.count)])
        XCTAssertEqual(sink.files.map(\.bytes), [photo])
        XCTAssertEqual(request.bytesRead, body.count, "the whole body, epilogue included, was read")
    }

    func testFieldLimit() throws {
        let limits = MultipartLimits(maxFieldBytes: 10)
        let exact = multipartBody([.field("note", "0123456789"), .file("f", "a", Array(repeating: 7, count: 100))])
        XCTAssertEqual(try parse(exact, limits: limits).0.fields, ["note": "0123456789"], "files are not limited")
        let over = multipartBody([.field("note", "0123456789X")])
        assertMultipartError(over, .fieldTooLarge(name: "note", limit: 10), limits: limits)
        assertMultipartError(over, .fieldTooLarge(name: "note", limit: 10), chunks: [1], limits: limits)
        let big = multipartBody([.field("note", String(repeating: "a", count: 64 * 1024 + 1))])
        assertMultipartError(big, .fieldTooLarge(name: "note", limit: 64 * 1024))
        XCTAssertEqual(MultipartError.fieldTooLarge(name: "note", limit: 10).message,
                       "The field `note` is larger than 10 bytes.")
    }

    func testTooManyFieldsAndDuplicates() throws {
        let limits = MultipartLimits(maxFields: 3)
        let three = multipartBody([.field("a", "1"), .field("b", "2"), .file("f", "x", [1]), .field("c", "3")])
        XCTAssertEqual(try parse(three, limits: limits).0.fields.count, 3)
        let four = multipartBody([.field("a", "1"), .field("b", "2"), .field("c", "3"), .field("d", "4")])
        assertMultipartError(four, .tooManyFields(limit: 3), limits: limits)
        let many = multipartBody((0...32).map { .field("f\($0)", "v") })
        assertMultipartError(many, .tooManyFields(limit: 32))
        assertMultipartError(multipartBody([.field("a", "1"), .field("a", "2")]), .duplicateField("a"))
    }

    func testHeaderLimit() throws {
        // The limit counts every header byte with its CRLF, and the empty line.
        let disposition = "Content-Disposition: form-data; name=\"a\""
        func body(padding: Int) -> [UInt8] {
            multipartBody([Part(headers: [disposition, "X-Padding: " + String(repeating: "p", count: padding)],
                                body: Array("v".utf8))])
        }
        let fixed = disposition.utf8.count + 2 + "X-Padding: ".utf8.count + 2 + 2
        let limits = MultipartLimits(maxHeaderBytes: 200)
        XCTAssertEqual(try parse(body(padding: 200 - fixed), limits: limits).0.fields, ["a": "v"])
        XCTAssertEqual(try parse(body(padding: 200 - fixed), chunks: [1], limits: limits).0.fields, ["a": "v"])
        assertMultipartError(body(padding: 201 - fixed), .headerTooLarge(limit: 200), limits: limits)
        assertMultipartError(body(padding: 201 - fixed), .headerTooLarge(limit: 200), chunks: [3], limits: limits)
        // The default: 8 KiB, in one line or in many, even with no line break in sight.
        assertMultipartError(body(padding: 9000), .headerTooLarge(limit: 8192))
        let manyLines = multipartBody([Part(headers: [disposition] + Array(repeating: "X-A: b", count: 2000), body: [])])
        assertMultipartError(manyLines, .headerTooLarge(limit: 8192))
        let endless = Array("--XyZ-boundary-123\r\nContent-Disposition: form-data; name=a".utf8) + Array(repeating: UInt8(ascii: "a"), count: 1 << 20)
        assertMultipartError(endless, .headerTooLarge(limit: 8192), limits: MultipartLimits(bufferSize: 100))
    }

    func testBadPartHeaders() {
        func part(_ headers: [String]) -> [UInt8] { multipartBody([Part(headers: headers, body: Array("v".utf8))]) }
        assertMalformed(part([]))
        assertMalformed(part(["Content-Type: text/plain"]))
        assertMalformed(part(["Content-Disposition: form-data"]))
        assertMalformed(part(["Content-Disposition: form-data; filename=\"a.txt\""]))
        assertMalformed(part(["Content-Disposition: attachment; name=\"a\""]))
        assertMalformed(part(["Content-Disposition: form-data; name=\"a"]))
        assertMalformed(part(["Content-Disposition: form-data; name=\"a\"; name=\"b\""]))
        assertMalformed(part(["Content-Disposition: form-data; name=a", "Content-Disposition: form-data; name=b"]))
        assertMalformed(part(["Content-Disposition form-data; name=a"]))
        assertMalformed(part(["Content-Disposition: form-data; name=a\rX: y"]))
        assertMalformed(part(["Content-Disposition: form-data; name=a; filename*=UTF-8''%E2%82"]))
        assertMalformed(part(["Content-Disposition: form-data; name=a; filename*=KOI8-R''abc"]))
        assertMalformed(part(["Content-Disposition: form-data; name=a; filename*=abc"]))
        assertMalformed(part(["Content-Disposition: form-data; name=a; filename*=UTF-8''%G1"]))
        assertMalformed(part([" Folded: first", "Content-Disposition: form-data; name=a"]))
        let latin1 = Array("--XyZ-boundary-123\r\nContent-Disposition: form-data; name=\"".utf8) + [0xE9]
            + Array("\"\r\n\r\nv\r\n--XyZ-boundary-123--".utf8)
        assertMalformed(latin1)
    }

    func testHeaderDetails() throws {
        let body = multipartBody([
            Part(headers: ["content-disposition: FORM-DATA ; NAME=plain ; FileName = \"x.bin\" ",
                           "CONTENT-TYPE:  image/jpeg ", "X-Ignored: yes"], body: [1]),
            Part(headers: ["Content-Disposition: form-data;", "\tname=\"folded\""], body: Array("v".utf8)),
            Part(headers: ["Content-Disposition: form-data; name=\"typed\"", "Content-Type: text/plain; charset=utf-8"],
                 body: Array("w".utf8)),
        ])
        let (form, sink) = try parse(body)
        XCTAssertEqual(sink.files, [ReceivedFile(fieldName: "plain", filename: "x.bin", contentType: "image/jpeg",
                                                 bytes: [1], ended: true)])
        XCTAssertEqual(form.fields, ["folded": "v", "typed": "w"])
    }

    func testFilenamesArePassedThroughAsGiven() throws {
        let unicode = String(repeating: "é🎬", count: 150)
        XCTAssertEqual(unicode.count, 300)
        let cases: [(disposition: [UInt8], filename: String)] = [
            (Array("form-data; name=\"file\"; filename=\"../../etc/passwd\"".utf8), "../../etc/passwd"),
            (Array("form-data; name=\"file\"; filename=\"a%00b.jpg\"".utf8), "a%00b.jpg"),
            (Array("form-data; name=\"file\"; filename=\"a\\0b.jpg\"".utf8), "a\\0b.jpg"),
            (Array("form-data; name=\"file\"; filename=\"a".utf8) + [0] + Array("b.jpg\"".utf8), "a\u{0}b.jpg"),
            (Array("form-data; name=\"file\"; filename=\"C:\\Users\\me\\photo.jpg\"".utf8), "C:\\Users\\me\\photo.jpg"),
            (Array("form-data; name=\"file\"; filename=\"say \\\"hi\\\".png\"".utf8), "say \"hi\".png"),
            (Array("form-data; name=\"file\"; filename=\"%22quoted%22.png\"".utf8), "%22quoted%22.png"),
            (Array("form-data; name=\"file\"; filename=\"\(unicode)\"".utf8), unicode),
            (Array("form-data; name=\"file\"; filename=plain.txt".utf8), "plain.txt"),
            (Array("form-data; name=\"file\"; filename=\"fallback.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt".utf8),
             "€ rates.txt"),
            (Array("form-data; name=\"file\"; filename*=utf-8'en'%00..%2F..%2Fx".utf8), "\u{0}../../x"),
            (Array("form-data; name=\"file\"; filename*=iso-8859-1''caf%E9".utf8), "café"),
        ]
        for (disposition, filename) in cases {
            let body = Array("--XyZ-boundary-123\r\nContent-Disposition: ".utf8) + disposition
                + Array("\r\n\r\ndata\r\n--XyZ-boundary-123--".utf8)
            for chunks in [[], [1]] {
                let (form, sink) = try parse(body, chunks: chunks)
                XCTAssertEqual(form.files.map(\.filename), [filename])
                XCTAssertEqual(sink.files.map(\.filename), [filename])
                XCTAssertEqual(sink.files.map(\.bytes), [Array("data".utf8)])
            }
        }
    }

    func testNonUTF8TextField() throws {
        let invalid: [[UInt8]] = [[0xFF, 0xFE], [0x61, 0xC3], [0xC0, 0xAF], [0xED, 0xA0, 0x80]]
        for bytes in invalid {
            let body = multipartBody([Part(headers: ["Content-Disposition: form-data; name=\"note\""], body: bytes)])
            assertMultipartError(body, .invalidUTF8(field: "note"))
        }
        let valid = multipartBody([Part(headers: ["Content-Disposition: form-data; name=\"note\""],
                                        body: [0xC3, 0xA9, 0x00, 0xF0, 0x9F, 0x8E, 0xAC])])
        XCTAssertEqual(try parse(valid, chunks: [1]).0.fields, ["note": "é\u{0}🎬"])
    }

    func testErrorMessagesAreSentences() {
        let errors: [MultipartError] = [
            .unsupportedContentType("text/plain"), .missingBoundary, .invalidBoundary("a@b"), .boundaryNotFound,
            .malformed("a part has no Content-Disposition header."), .truncated, .headerTooLarge(limit: 8192),
            .fieldTooLarge(name: String(repeating: "n", count: 500), limit: 65536), .tooManyFields(limit: 32),
            .duplicateField("a"), .invalidUTF8(field: "a"),
        ]
        for error in errors {
            XCTAssertTrue(error.message.first!.isUppercase && error.message.hasSuffix("."), error.message)
            XCTAssertLessThan(error.message.count, 300, error.message)
            XCTAssertFalse(error.code.isEmpty)
            XCTAssertEqual(error.description, error.message)
        }
        XCTAssertEqual(MultipartError.unsupportedContentType("text/plain").httpStatus, 415)
        XCTAssertEqual(MultipartError.truncated.httpStatus, 400)
    }

    func testTwentyMegabyteRandomFileStreams() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var data = [UInt8](repeating: 0, count: 20_000_000)
        data.withUnsafeMutableBytes { raw in
            for offset in stride(from: 0, to: raw.count, by: 8) {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                raw.storeBytes(of: state, toByteOffset: offset, as: UInt64.self)
            }
        }
        let random = try streamLargeFile(data)
        // The worst case for the search: a delimiter look-alike every 20 bytes.
        let pattern = Array("\r\n--XyZ-boundary-12".utf8)
        let dense = (0..<(20_000_000 / pattern.count)).flatMap { _ in pattern }
        let adversarial = try streamLargeFile(dense)
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        print("Multipart throughput (\(build) build, RequestBody source, 64 KiB buffer): "
              + "\(random) MB/s random 20 MB file, \(adversarial) MB/s 20 MB of boundary look-alikes")
    }

    /// Streams `data` as the one file of a form from a RequestBody, checks every byte, and
    /// returns the best of three runs in MB/s (information only, never asserted).
    private func streamLargeFile(_ data: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let body = multipartBody([.field("title", "big"), .file("file", "big.bin", data), .field("alt", "after")])
        let parser = try MultipartParser(contentType: "multipart/form-data; boundary=\(Self.boundary)")
        var best = Double.infinity
        for _ in 0..<3 {
            var sink = VerifyingSink(expected: data)
            let started = DispatchTime.now().uptimeNanoseconds
            let form = try parser.parse(RequestBody(bytes: body), into: &sink)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            XCTAssertEqual(sink.received, data.count, file: file, line: line)
            XCTAssertNil(sink.mismatchAt, "the streamed bytes equal the input", file: file, line: line)
            XCTAssertTrue(sink.ended, file: file, line: line)
            XCTAssertEqual(form.files.map(\.byteCount), [data.count], file: file, line: line)
            XCTAssertEqual(form.fields, ["title": "big", "alt": "after"], file: file, line: line)
            XCTAssertGreaterThanOrEqual(sink.writes, data.count / (64 * 1024), file: file, line: line)
        }
        return Int(Double(body.count) / best / 1e6)
    }
}
