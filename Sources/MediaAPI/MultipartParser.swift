#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// A streaming multipart/form-data parser (RFC 7578 on RFC 2046). It pulls the body through
// one fixed buffer, hands file parts to a sink chunk by chunk and keeps only small text
// fields in memory, so a 50 MB upload costs one 64 KiB buffer.

/// Where the parser pulls body bytes from. `FastCGI.RequestBody` conforms (Multipart.swift).
public protocol ByteSource {
    /// Reads up to `buffer.count` bytes into the start of `buffer` and returns how many;
    /// 0 means the input has ended. Errors thrown here reach the parser's caller unchanged.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Receives the content of file parts (parts whose Content-Disposition has a `filename`
/// or `filename*` parameter). For each file part the parser calls `begin`, then `write`
/// zero or more times, then `end`. Anything the sink throws stops the parse and reaches
/// the caller unchanged: throwing from `begin` refuses a part before any of its bytes are
/// read (e.g. a second file). If the parse fails between `begin` and `end`, `end` is not
/// called: the caller discards what it wrote.
public protocol FilePartSink {
    /// `filename` is exactly what the client sent (possibly empty, with `../`, control
    /// characters, …): sanitising it is the caller's job. `contentType` is the part's
    /// Content-Type header as sent, nil when the part has none.
    mutating func begin(fieldName: String, filename: String, contentType: String?) throws
    /// The next bytes of the current file; the buffer is only valid during the call.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws
    mutating func end() throws
}

/// The boundary of a multipart body: 1–70 characters from RFC 2046's `bchars`, not
/// ending in a space.
public struct MultipartBoundary: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    public init(_ value: String) throws {
        let bytes = Array(value.utf8)
        guard (1...70).contains(bytes.count), bytes.last != UInt8(ascii: " "),
              bytes.allSatisfy(MultipartBoundary.isBoundaryCharacter) else {
            throw MultipartError.invalidBoundary(value)
        }
        self.value = value
    }

    /// Reads the boundary from a Content-Type header value such as
    /// `multipart/form-data; boundary="----abc"` (quoted or not, parameter names in any case).
    public init(contentType: String) throws {
        guard let parsed = HeaderValue(Array(contentType.utf8)) else {
            let type = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
            guard type.trimmingASCIISpaces().lowercased() == "multipart/form-data" else {
                throw MultipartError.unsupportedContentType(type.trimmingASCIISpaces())
            }
            throw MultipartError.malformed("its Content-Type parameters cannot be parsed.")
        }
        guard parsed.value.lowercased() == "multipart/form-data" else {
            throw MultipartError.unsupportedContentType(parsed.value)
        }
        let boundaries = parsed.parameters.filter { $0.name == "boundary" }
        guard let boundary = boundaries.first else { throw MultipartError.missingBoundary }
        guard boundaries.count == 1 else {
            throw MultipartError.malformed("its Content-Type has more than one boundary parameter.")
        }
        try self.init(String(decoding: boundary.value, as: UTF8.self))
    }

    public var description: String { value }

    private static func isBoundaryCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default:
            return Array("'()+_,-./:=? ".utf8).contains(byte)
        }
    }
}

/// The parser's limits. Text fields are held in memory, files never are.
public struct MultipartLimits: Sendable, Equatable {
    /// The largest text field value, in bytes.
    public var maxFieldBytes: Int
    /// The most text fields (file parts are not counted; the sink decides about those).
    public var maxFields: Int
    /// The largest header block of one part, in bytes, line breaks included.
    public var maxHeaderBytes: Int
    /// The read buffer; raised to a small minimum when the boundary needs more.
    public var bufferSize: Int

    public init(maxFieldBytes: Int = 64 * 1024, maxFields: Int = 32, maxHeaderBytes: Int = 8 * 1024,
                bufferSize: Int = 64 * 1024) {
        self.maxFieldBytes = maxFieldBytes
        self.maxFields = maxFields
        self.maxHeaderBytes = maxHeaderBytes
        self.bufferSize = bufferSize
    }
}

/// A file part the sink received.
public struct MultipartFilePart: Sendable, Equatable {
    public let fieldName: String
    public let filename: String
    public let contentType: String?
    public let byteCount: Int

    public init(fieldName: String, filename: String, contentType: String?, byteCount: Int) {
        self.fieldName = fieldName
        self.filename = filename
        self.contentType = contentType
        self.byteCount = byteCount
    }
}

/// What a parse found: the text fields and, in order, the file parts the sink received.
public struct MultipartForm: Sendable, Equatable {
    public var fields: [String: String]
    public var files: [MultipartFilePart]
    /// How many file parts the body had; policy ("exactly one") is the caller's.
    public var fileCount: Int { files.count }

    public init(fields: [String: String] = [:], files: [MultipartFilePart] = []) {
        self.fields = fields
        self.files = files
    }
}

/// Parses one `multipart/form-data` body.
///
///     let parser = try MultipartParser(contentType: request.header("Content-Type") ?? "")
///     let form = try parser.parse(request.body, into: &sink)
///
/// The preamble and the epilogue are skipped; `parse` returns after reading the source to
/// its end. A body that ends before `--boundary--` is `MultipartError.truncated`.
public struct MultipartParser: Sendable {
    public let boundary: MultipartBoundary
    public let limits: MultipartLimits

    public init(boundary: MultipartBoundary, limits: MultipartLimits = MultipartLimits()) {
        self.boundary = boundary
        self.limits = limits
    }

    public init(contentType: String, limits: MultipartLimits = MultipartLimits()) throws {
        self.init(boundary: try MultipartBoundary(contentType: contentType), limits: limits)
    }

    public func parse(_ source: some ByteSource, into sink: inout some FilePartSink) throws -> MultipartForm {
        // The delimiter is CRLF "--" boundary; the CRLF before the first one is part of the
        // preamble, so the buffer starts with a CRLF to let a body open with "--boundary".
        let delimiter = Array("\r\n--\(boundary.value)".utf8)
        let capacity = max(limits.bufferSize, 2 * delimiter.count + 16)
        var reader = BufferedReader(source: source, delimiter: delimiter, capacity: capacity)
        var form = MultipartForm()

        guard try reader.skipToDelimiter({ _ in }) else { throw MultipartError.boundaryNotFound }
        while true {
            // After a delimiter: "--" closes the body, otherwise optional transport padding
            // and a CRLF lead into the next part's headers.
            if try reader.consumeClosingDashes() {
                try reader.drain()
                return form
            }
            try reader.consumeBoundaryLineEnd()
            let part = try PartHeaders(try reader.readHeaderBlock(limit: limits.maxHeaderBytes))

            if let filename = part.filename {
                try sink.begin(fieldName: part.name, filename: filename, contentType: part.contentType)
                var count = 0
                let found = try reader.skipToDelimiter { bytes in
                    count += bytes.count
                    try sink.write(bytes)
                }
                guard found else { throw MultipartError.truncated }
                try sink.end()
                form.files.append(MultipartFilePart(fieldName: part.name, filename: filename,
                                                    contentType: part.contentType, byteCount: count))
            } else {
                guard form.fields[part.name] == nil else { throw MultipartError.duplicateField(part.name) }
                guard form.fields.count < limits.maxFields else {
                    throw MultipartError.tooManyFields(limit: limits.maxFields)
                }
                var value: [UInt8] = []
                let limit = limits.maxFieldBytes
                let found = try reader.skipToDelimiter { bytes in
                    guard value.count + bytes.count <= limit else {
                        throw MultipartError.fieldTooLarge(name: part.name, limit: limit)
                    }
                    value.append(contentsOf: bytes)
                }
                guard found else { throw MultipartError.truncated }
                guard let text = decodeUTF8(value) else { throw MultipartError.invalidUTF8(field: part.name) }
                form.fields[part.name] = text
            }
        }
    }
}

// MARK: - Buffered reading

private let cr = UInt8(ascii: "\r")
private let lf = UInt8(ascii: "\n")

/// The fixed read buffer: valid bytes are `start..<end` of `capacity`.
private struct BufferedReader<Source: ByteSource>: ~Copyable {
    private var source: Source
    private let base: UnsafeMutableRawPointer
    private let capacity: Int
    private var start = 0
    private var end = 0
    private let delimiter: UnsafeMutableRawPointer
    private let delimiterCount: Int

    init(source: Source, delimiter: [UInt8], capacity: Int) {
        precondition(capacity > delimiter.count + 2)
        self.source = source
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 16)
        delimiterCount = delimiter.count
        self.delimiter = .allocate(byteCount: delimiter.count, alignment: 1)
        delimiter.withUnsafeBytes { self.delimiter.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        // The virtual CRLF before the first delimiter.
        base.storeBytes(of: cr, toByteOffset: 0, as: UInt8.self)
        base.storeBytes(of: lf, toByteOffset: 1, as: UInt8.self)
        end = 2
    }

    deinit {
        base.deallocate()
        delimiter.deallocate()
    }

    private func byte(_ offset: Int) -> UInt8 { base.load(fromByteOffset: offset, as: UInt8.self) }

    /// Moves the unread bytes to the front and reads once more; false at the end of the input.
    private mutating func fill() throws -> Bool {
        if start > 0 {
            if end > start { memmove(base, base + start, end - start) }
            end -= start
            start = 0
        }
        let room = capacity - end
        precondition(room > 0, "multipart buffer full")
        let got = try source.read(into: UnsafeMutableRawBufferPointer(start: base + end, count: room))
        precondition(got >= 0 && got <= room, "a ByteSource returned more bytes than it was given room for")
        end += got
        return got > 0
    }

    /// Makes at least `count` unread bytes available; false if the input ends first.
    private mutating func ensure(_ count: Int) throws -> Bool {
        while end - start < count {
            if try !fill() { return false }
        }
        return true
    }

    /// Passes the bytes before the next delimiter to `emit` (in chunks, never empty) and
    /// consumes the delimiter. False when the input ends without one.
    mutating func skipToDelimiter(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        while true {
            let (match, safeEnd) = search()
            if safeEnd > start {
                try emit(UnsafeRawBufferPointer(start: base + start, count: safeEnd - start))
                start = safeEnd
            }
            if match {
                start += delimiterCount
                return true
            }
            if try !fill() { return false }
        }
    }

    /// Looks for the delimiter in the unread bytes. `safeEnd` is where content certainly
    /// ends: the delimiter's position, or the first CR that may begin one cut by the end of
    /// the buffer, or `end`.
    private func search() -> (match: Bool, safeEnd: Int) {
        var index = start
        while index < end {
            guard let found = memchr(base + index, Int32(cr), end - index) else { return (false, end) }
            let position = base.distance(to: found)
            let available = end - position
            if available >= delimiterCount {
                if byte(position + 1) == lf, memcmp(found, delimiter, delimiterCount) == 0 {
                    return (true, position)
                }
            } else if memcmp(found, delimiter, available) == 0 {
                return (false, position)
            }
            index = position + 1
        }
        return (false, end)
    }

    /// After a delimiter: consumes "--" if it follows (the close delimiter).
    mutating func consumeClosingDashes() throws -> Bool {
        guard try ensure(1) else { throw MultipartError.truncated }
        guard byte(start) == UInt8(ascii: "-") else { return false }
        guard try ensure(2) else { throw MultipartError.truncated }
        guard byte(start + 1) == UInt8(ascii: "-") else {
            throw MultipartError.malformed("a boundary delimiter is followed by a single '-'.")
        }
        start += 2
        return true
    }

    /// After a delimiter that does not close the body: optional spaces or tabs, then CRLF.
    mutating func consumeBoundaryLineEnd() throws {
        var padding = 0
        while true {
            guard try ensure(1) else { throw MultipartError.truncated }
            let next = byte(start)
            guard next == UInt8(ascii: " ") || next == UInt8(ascii: "\t") else { break }
            padding += 1
            guard padding <= 64 else {
                throw MultipartError.malformed("a boundary line has too much trailing whitespace.")
            }
            start += 1
        }
        guard try ensure(2) else { throw MultipartError.truncated }
        guard byte(start) == cr, byte(start + 1) == lf else {
            throw MultipartError.malformed("a boundary delimiter is followed by other text on its line.")
        }
        start += 2
    }

    /// The header lines of a part, without their CRLFs, up to the empty line. At most
    /// `limit` bytes in all, line breaks and the empty line included.
    mutating func readHeaderBlock(limit: Int) throws -> [[UInt8]] {
        var budget = limit
        var lines: [[UInt8]] = []
        while true {
            let line = try readHeaderLine(budget: &budget, limit: limit)
            if line.isEmpty { return lines }
            lines.append(line)
        }
    }

    private mutating func readHeaderLine(budget: inout Int, limit: Int) throws -> [UInt8] {
        var line: [UInt8] = []
        while true {
            if start == end, try !fill() { throw MultipartError.truncated }
            let available = end - start
            if let found = memchr(base + start, Int32(lf), available) {
                let length = base.distance(to: found) - start + 1
                guard length <= budget else { throw MultipartError.headerTooLarge(limit: limit) }
                budget -= length
                line.append(contentsOf: UnsafeRawBufferPointer(start: base + start, count: length - 1))
                start += length
                guard line.last == cr else {
                    throw MultipartError.malformed("part header lines must end with CRLF.")
                }
                line.removeLast()
                guard !line.contains(cr) else {
                    throw MultipartError.malformed("a part header line contains a bare CR.")
                }
                return line
            }
            guard available <= budget else { throw MultipartError.headerTooLarge(limit: limit) }
            budget -= available
            line.append(contentsOf: UnsafeRawBufferPointer(start: base + start, count: available))
            start = end
        }
    }

    /// Reads and drops the rest of the input (the epilogue).
    mutating func drain() throws {
        start = end
        while try fill() { start = end }
    }
}

// MARK: - Part headers

/// The headers of one part that matter: the Content-Disposition field name and filename,
/// and the Content-Type.
private struct PartHeaders {
    var name: String
    var filename: String?
    var contentType: String?

    init(_ lines: [[UInt8]]) throws {
        var fields: [(name: String, value: [UInt8])] = []
        for line in lines {
            if line.first == UInt8(ascii: " ") || line.first == UInt8(ascii: "\t") {
                // An obsolete folded continuation line belongs to the previous header.
                guard !fields.isEmpty else {
                    throw MultipartError.malformed("a part's headers begin with a continuation line.")
                }
                fields[fields.count - 1].value.append(UInt8(ascii: " "))
                fields[fields.count - 1].value.append(contentsOf: trimmed(line[...]))
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw MultipartError.malformed("a part header line has no colon.")
            }
            let name = trimmed(line[..<colon])
            guard !name.isEmpty else { throw MultipartError.malformed("a part header has no name.") }
            fields.append((String(decoding: name, as: UTF8.self).lowercased(), Array(trimmed(line[(colon + 1)...]))))
        }

        let dispositions = fields.filter { $0.name == "content-disposition" }
        guard let dispositionBytes = dispositions.first?.value else {
            throw MultipartError.malformed("a part has no Content-Disposition header.")
        }
        guard dispositions.count == 1 else {
            throw MultipartError.malformed("a part has more than one Content-Disposition header.")
        }
        guard decodeUTF8(dispositionBytes) != nil else {
            throw MultipartError.malformed("a part's Content-Disposition is not valid UTF-8.")
        }
        guard let disposition = HeaderValue(dispositionBytes) else {
            throw MultipartError.malformed("a part's Content-Disposition cannot be parsed.")
        }
        guard disposition.value.lowercased() == "form-data" else {
            throw MultipartError.malformed("a part's Content-Disposition is `\(MultipartError.shorten(disposition.value))`, not form-data.")
        }
        var parameters: [String: [UInt8]] = [:]
        for parameter in disposition.parameters {
            guard parameters.updateValue(parameter.value, forKey: parameter.name) == nil else {
                throw MultipartError.malformed("a part's Content-Disposition repeats its `\(MultipartError.shorten(parameter.name))` parameter.")
            }
        }
        guard let name = parameters["name"] else {
            throw MultipartError.malformed("a part's Content-Disposition has no name.")
        }
        // Bytes of a validated UTF-8 header split at ASCII characters stay valid UTF-8.
        self.name = String(decoding: name, as: UTF8.self)
        if let extended = parameters["filename*"] {
            guard let decoded = decodeExtendedValue(extended) else {
                throw MultipartError.malformed("a part's filename* is not a valid RFC 5987 value.")
            }
            filename = decoded
        } else if let plain = parameters["filename"] {
            filename = String(decoding: plain, as: UTF8.self)
        }

        let types = fields.filter { $0.name == "content-type" }
        guard types.count <= 1 else { throw MultipartError.malformed("a part has more than one Content-Type header.") }
        if let type = types.first?.value {
            guard let text = decodeUTF8(type) else {
                throw MultipartError.malformed("a part's Content-Type is not valid UTF-8.")
            }
            contentType = text
        }
    }
}

/// A header value of the form `value; name=token; name="quoted string"`. Parameter names
/// are lowercased; in quoted strings `\"` and `\\` are unescaped and any other backslash
/// is kept (browsers on Windows may send `C:\path\file` unescaped).
private struct HeaderValue {
    var value: String
    var parameters: [(name: String, value: [UInt8])] = []

    init?(_ bytes: [UInt8]) {
        let semicolon = UInt8(ascii: ";"), quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        let count = bytes.count
        var index = bytes.firstIndex(of: semicolon) ?? count
        value = String(decoding: trimmed(bytes[..<index]), as: UTF8.self)

        func skipSpaces() {
            while index < count, isSpace(bytes[index]) { index += 1 }
        }
        while index < count {
            guard bytes[index] == semicolon else { return nil }
            index += 1
            skipSpaces()
            if index == count { break }
            if bytes[index] == semicolon { continue }
            let nameStart = index
            while index < count, bytes[index] != UInt8(ascii: "="), bytes[index] != semicolon { index += 1 }
            let name = trimmed(bytes[nameStart..<index])
            guard index < count, bytes[index] == UInt8(ascii: "="), !name.isEmpty else { return nil }
            index += 1
            skipSpaces()
            var parameterValue: [UInt8] = []
            if index < count, bytes[index] == quote {
                index += 1
                var closed = false
                while index < count {
                    let byte = bytes[index]
                    if byte == quote {
                        closed = true
                        index += 1
                        break
                    }
                    if byte == backslash, index + 1 < count, bytes[index + 1] == quote || bytes[index + 1] == backslash {
                        parameterValue.append(bytes[index + 1])
                        index += 2
                        continue
                    }
                    parameterValue.append(byte)
                    index += 1
                }
                guard closed else { return nil }
                skipSpaces()
                guard index == count || bytes[index] == semicolon else { return nil }
            } else {
                let valueStart = index
                while index < count, bytes[index] != semicolon { index += 1 }
                parameterValue = Array(trimmed(bytes[valueStart..<index]))
            }
            parameters.append((String(decoding: name, as: UTF8.self).lowercased(), parameterValue))
        }
    }
}

/// An RFC 5987 `charset'language'percent-encoded` value (UTF-8 or ISO-8859-1).
private func decodeExtendedValue(_ bytes: [UInt8]) -> String? {
    let parts = bytes.split(separator: UInt8(ascii: "'"), maxSplits: 2, omittingEmptySubsequences: false)
    guard parts.count == 3 else { return nil }
    let charset = String(decoding: parts[0], as: UTF8.self).lowercased()
    var decoded: [UInt8] = []
    var index = parts[2].startIndex
    let encoded = parts[2]
    while index < encoded.endIndex {
        let byte = encoded[index]
        if byte == UInt8(ascii: "%") {
            guard encoded.endIndex - index >= 3, let high = hexValue(encoded[index + 1]), let low = hexValue(encoded[index + 2]) else { return nil }
            decoded.append(high << 4 | low)
            index += 3
        } else {
            decoded.append(byte)
            index += 1
        }
    }
    switch charset {
    case "utf-8": return decodeUTF8(decoded)
    case "iso-8859-1": return String(String.UnicodeScalarView(decoded.map { Unicode.Scalar($0) }))
    default: return nil
    }
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}

private func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

private func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    var slice = bytes
    while let first = slice.first, isSpace(first) { slice = slice.dropFirst() }
    while let last = slice.last, isSpace(last) { slice = slice.dropLast() }
    return slice
}

/// The bytes as a String if they are valid UTF-8 (no replacement characters).
private func decodeUTF8(_ bytes: [UInt8]) -> String? {
    if #available(macOS 15, *) {
        return String(validating: bytes, as: UTF8.self)
    }
    var iterator = bytes.makeIterator()
    var codec = UTF8()
    while true {
        switch codec.decode(&iterator) {
        case .scalarValue: continue
        case .emptyInput: return String(decoding: bytes, as: UTF8.self)
        case .error: return nil
        }
    }
}

private extension StringProtocol {
    func trimmingASCIISpaces() -> String {
        String(decoding: trimmed(ArraySlice(utf8)), as: UTF8.self)
    }
}
