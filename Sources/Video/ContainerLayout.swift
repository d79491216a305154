#if canImport(Glibc)
import Glibc
#endif

/// Checks a sniffed video file's outer structure before any tool reads it: the container's
/// top-level elements must span the file exactly, and the file must not also be something
/// else a browser or an unzip would act on (a polyglot: MP4 + ZIP, MP4 + HTML page).
/// Only element headers are read (pread), never the payload. On the way it reads the
/// duration the container declares (ISO `mvhd`, Matroska `Info`), so that the poster frame
/// can be taken while ffprobe runs.
public enum ContainerLayout {
    /// Top-level ISO boxes read before giving up: real files have a handful.
    static let maxTopLevelBoxes = 10_000
    /// A ZIP's end-of-central-directory record sits in the last 22 + 65,535 bytes.
    static let zipTailBytes = 22 + 65_535

    /// Returns the duration the container declares, in seconds, if it declares one.
    @discardableResult
    public static func check(path: String, family: ContainerFamily, prefix: [UInt8]) throws -> Double? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw VideoError.undecodable("cannot open the staged file") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw VideoError.undecodable("cannot stat the staged file") }
        let size = Int64(info.st_size)

        if let tag = markup(in: prefix) {
            throw VideoError.ambiguous("the file is also markup (\(tag))")
        }
        // Before the structure: an appended archive would otherwise read as mere trailing bytes.
        if hasZipDirectory(fd, size: size) {
            throw VideoError.ambiguous("the file is also a ZIP archive")
        }
        switch family {
        case .isoMedia: return try checkBoxes(fd, size: size)
        case .matroska: return try checkSegment(fd, size: size)
        }
    }

    // MARK: ISO base media

    /// ftyp, moov, mdat, free…: each box's size chains to the next and the last ends at EOF.
    private static func checkBoxes(_ fd: Int32, size: Int64) throws -> Double? {
        var offset: Int64 = 0
        var movie: (offset: Int64, size: Int64)?
        for _ in 0..<maxTopLevelBoxes {
            if offset == size { break }
            guard size - offset >= 8, let header = read(fd, at: offset, count: 16), header.count >= 8 else {
                throw VideoError.undecodable("a box is cut off at byte \(offset)")
            }
            let type = header[4..<8]
            guard type.allSatisfy({ (0x20...0x7E).contains($0) }) else {
                throw VideoError.undecodable("no valid box at byte \(offset)")
            }
            var boxSize = Int64(bigEndian: header[0..<4])
            if boxSize == 1 {  // 64-bit size after the type
                guard header.count == 16 else { throw VideoError.undecodable("a box is cut off at byte \(offset)") }
                let large = UInt64(bigEndian: header[8..<16])
                guard large <= UInt64(Int64.max) else { throw VideoError.undecodable("a box at byte \(offset) is too large") }
                boxSize = Int64(large)
                guard boxSize >= 16 else { throw VideoError.undecodable("the box at byte \(offset) is smaller than its header") }
            } else if boxSize == 0 {  // to the end of the file
                boxSize = size - offset
            }
            guard boxSize >= 8, boxSize <= size - offset else {
                throw VideoError.undecodable("the box at byte \(offset) runs past the end of the file")
            }
            if type.elementsEqual("moov".utf8), movie == nil { movie = (offset, boxSize) }
            offset += boxSize
        }
        guard offset == size else { throw VideoError.undecodable("more than \(maxTopLevelBoxes) top-level boxes") }
        guard let movie else { throw VideoError.undecodable("the file has no movie box (moov)") }
        return movieDuration(fd, movie)
    }

    /// `mvhd`'s duration ÷ timescale, from the first few children of `moov` (it is the first
    /// in practice); nil when absent, unknown (all ones) or unreadable.
    private static func movieDuration(_ fd: Int32, _ movie: (offset: Int64, size: Int64)) -> Double? {
        var offset = movie.offset + 8
        let end = movie.offset + movie.size
        for _ in 0..<16 where end - offset >= 8 {
            guard let header = read(fd, at: offset, count: 40), header.count >= 8 else { return nil }
            let childSize = Int64(bigEndian: header[0..<4])
            guard childSize >= 8, childSize <= end - offset else { return nil }
            if header[4..<8].elementsEqual("mvhd".utf8) {
                // FullBox: version, flags; then (v0) 4-byte times, timescale, 4-byte
                // duration, or (v1) 8-byte times, timescale, 8-byte duration.
                let version1 = header.count > 8 && header[8] == 1
                let (scaleAt, durationAt, durationBytes) = version1 ? (28, 32, 8) : (20, 24, 4)
                guard childSize >= Int64(durationAt + durationBytes), header.count >= durationAt + durationBytes else { return nil }
                let timescale = UInt64(bigEndian: header[scaleAt..<scaleAt + 4])
                let duration = UInt64(bigEndian: header[durationAt..<durationAt + durationBytes])
                let unknown = durationBytes == 4 ? UInt64(UInt32.max) : UInt64.max
                guard timescale > 0, duration != unknown else { return nil }
                return Double(duration) / Double(timescale)
            }
            offset += childSize
        }
        return nil
    }

    // MARK: Matroska / WebM

    /// The EBML header, then one Segment; a Segment of known size must end at EOF
    /// (unknown size, as live recorders write, runs to the end by definition).
    private static func checkSegment(_ fd: Int32, size: Int64) throws -> Double? {
        guard let ebml = element(fd, at: 0, fileSize: size), ebml.id == 0x1A45DFA3, let ebmlSize = ebml.size else {
            throw VideoError.undecodable("no EBML header")
        }
        let segmentStart = ebml.dataOffset + ebmlSize
        guard let segment = element(fd, at: segmentStart, fileSize: size), segment.id == 0x18538067 else {
            throw VideoError.undecodable("no Matroska segment after the EBML header")
        }
        guard let segmentSize = segment.size else { return segmentDuration(fd, segment, end: size) }
        let (end, overflow) = segment.dataOffset.addingReportingOverflow(segmentSize)
        guard !overflow, end <= size else { throw VideoError.undecodable("the segment runs past the end of the file") }
        guard end == size else { throw VideoError.undecodable("\(size - end) bytes follow the Matroska segment") }
        return segmentDuration(fd, segment, end: end)
    }

    /// Info's Duration × TimestampScale, from the Segment's first few children (SeekHead,
    /// Void, Info come before the first Cluster); nil when absent or unreadable.
    private static func segmentDuration(_ fd: Int32, _ segment: Element, end: Int64) -> Double? {
        var offset = segment.dataOffset
        for _ in 0..<16 {
            guard let child = element(fd, at: offset, fileSize: end), let childSize = child.size,
                  child.id != 0x1F43B675 else { return nil }  // unknown size or a Cluster: no Info ahead
            if child.id == 0x1549A966, childSize <= 4096 {
                return infoDuration(fd, from: child.dataOffset, end: min(end, child.dataOffset + childSize))
            }
            let (next, overflow) = child.dataOffset.addingReportingOverflow(childSize)
            guard !overflow, next > offset else { return nil }
            offset = next
        }
        return nil
    }

    private static func infoDuration(_ fd: Int32, from start: Int64, end: Int64) -> Double? {
        var (offset, scale, duration) = (start, 1_000_000.0, nil as Double?)  // nanoseconds per tick by default
        while offset < end, let child = element(fd, at: offset, fileSize: end), let size = child.size, size <= 8 {
            if let bytes = read(fd, at: child.dataOffset, count: Int(size)), bytes.count == Int(size) {
                switch (child.id, size) {
                case (0x2AD7B1, 1...8): scale = Double(UInt64(bigEndian: bytes[...]))
                case (0x4489, 4): duration = Double(Float(bitPattern: UInt32(bigEndian: bytes[...])))
                case (0x4489, 8): duration = Double(bitPattern: UInt64(bigEndian: bytes[...]))
                default: break
                }
            }
            offset = child.dataOffset + size
        }
        guard let duration, duration.isFinite, duration >= 0, scale > 0 else { return nil }
        let seconds = duration * scale / 1e9
        return seconds.isFinite ? seconds : nil
    }

    struct Element {
        let id: UInt32
        /// nil: "unknown size" (all value bits set).
        let size: Int64?
        let dataOffset: Int64
    }

    /// An EBML element header: a variable-length ID (marker bits kept), then a
    /// variable-length size (marker bit removed).
    static func element(_ fd: Int32, at offset: Int64, fileSize: Int64) -> Element? {
        guard offset >= 0, offset < fileSize, let bytes = read(fd, at: offset, count: 12), let first = bytes.first,
              first != 0 else { return nil }
        let idLength = first.leadingZeroBitCount + 1
        guard idLength <= 4, bytes.count > idLength else { return nil }
        let id = bytes[0..<idLength].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let sizeFirst = bytes[idLength]
        guard sizeFirst != 0 else { return nil }
        let sizeLength = sizeFirst.leadingZeroBitCount + 1
        guard bytes.count >= idLength + sizeLength else { return nil }
        var value = UInt64(sizeFirst & (0xFF >> sizeLength))
        var allOnes = value == UInt64(0xFF >> sizeLength)
        for byte in bytes[(idLength + 1)..<(idLength + sizeLength)] {
            value = value << 8 | UInt64(byte)
            allOnes = allOnes && byte == 0xFF
        }
        let dataOffset = offset + Int64(idLength + sizeLength)
        if allOnes { return Element(id: id, size: nil, dataOffset: dataOffset) }
        guard value <= UInt64(Int64.max) else { return nil }
        return Element(id: id, size: Int64(value), dataOffset: dataOffset)
    }

    // MARK: Polyglots

    private static let markupTags = ["<html", "<!doctype", "<script", "<body", "<svg", "<iframe"]

    /// An HTML or SVG tag among the first bytes: the file's leading boxes can carry any
    /// text, and a browser that sniffs would render it.
    static func markup(in prefix: [UInt8]) -> String? {
        let lowered = prefix.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
        return markupTags.first { tag in
            let needle = Array(tag.utf8)
            guard lowered.count >= needle.count else { return false }
            return (0...(lowered.count - needle.count)).contains { lowered[$0..<$0 + needle.count].elementsEqual(needle) }
        }
    }

    private static func hasZipDirectory(_ fd: Int32, size: Int64) -> Bool {
        let start = max(0, size - Int64(zipTailBytes))
        guard let tail = read(fd, at: start, count: Int(size - start)), tail.count >= 4 else { return false }
        let signature: [UInt8] = [0x50, 0x4B, 0x05, 0x06]
        return (0...(tail.count - 4)).contains { tail[$0..<$0 + 4].elementsEqual(signature) }
    }

    private static func read(_ fd: Int32, at offset: Int64, count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
        guard got > 0 else { return nil }
        return Array(bytes[0..<got])
    }
}

private extension FixedWidthInteger {
    /// The integer the bytes spell, most significant first.
    init(bigEndian bytes: ArraySlice<UInt8>) {
        self = bytes.reduce(Self.zero) { $0 << 8 | Self($1) }
    }
}
