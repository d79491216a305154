#if canImport(Glibc)
import Glibc
#endif

/// Where the header scan reads from: a staged file, or bytes in memory (tests, the fuzzer).
public enum ScanInput {
    case file(descriptor: Int32, size: Int)
    case bytes([UInt8])

    var size: Int {
        switch self {
        case .file(_, let size): size
        case .bytes(let bytes): bytes.count
        }
    }
}

/// A forward reader over a `ScanInput` through one small window, so that a scan of a
/// 100 MB file holds 64 KiB, whatever the file declares. Every read is bounds-checked:
/// past the end it answers nil (the scan stops there and leaves the verdict to libvips).
struct ScanReader {
    static let windowSize = 64 * 1024

    let input: ScanInput
    private(set) var position = 0
    private var window: [UInt8] = []
    private var windowStart = 0

    init(_ input: ScanInput) {
        self.input = input
    }

    var size: Int { input.size }
    var remaining: Int { max(0, input.size - position) }

    /// Moves to `offset` (anywhere in the input); false past the end.
    mutating func seek(to offset: Int) -> Bool {
        guard offset >= 0, offset <= input.size else { return false }
        position = offset
        return true
    }

    /// Skips `count` bytes; false if fewer remain.
    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, count <= remaining else { return false }
        position += count
        return true
    }

    mutating func byte() throws -> UInt8? {
        guard position < input.size else { return nil }
        if position < windowStart || position >= windowStart + window.count { try fill() }
        defer { position += 1 }
        return window[position - windowStart]
    }

    /// `count` bytes (at most the window), nil if fewer remain.
    mutating func bytes(_ count: Int) throws -> [UInt8]? {
        guard count >= 0, count <= Self.windowSize, count <= remaining else { return nil }
        if position < windowStart || position + count > windowStart + window.count { try fill() }
        defer { position += count }
        return Array(window[(position - windowStart)..<(position - windowStart + count)])
    }

    /// An unsigned field of `width` bytes (at most 8). One of 8 bytes that does not fit in
    /// an Int answers Int.max: larger than any file, it fails every bounds check.
    mutating func bigEndian(_ width: Int) throws -> Int? {
        guard let bytes = try bytes(width) else { return nil }
        return Self.unsigned(bytes)
    }

    mutating func littleEndian(_ width: Int) throws -> Int? {
        guard let bytes = try bytes(width) else { return nil }
        return Self.unsigned(bytes.reversed())
    }

    private static func unsigned(_ bytes: [UInt8]) -> Int {
        let value = bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return value > UInt64(Int.max) ? Int.max : Int(value)
    }

    /// Hands the next `count` bytes to `body` a window at a time, until `body` answers false.
    mutating func stream(_ count: Int, _ body: (ArraySlice<UInt8>) throws -> Bool) throws {
        var left = min(count, remaining)
        while left > 0 {
            if position < windowStart || position >= windowStart + window.count { try fill() }
            let start = position - windowStart
            let piece = window[start..<min(window.count, start + left)]
            position += piece.count
            left -= piece.count
            guard try body(piece) else { return }
        }
    }

    /// Moves to the next `byte` at or after the position (and past it); false if there is none.
    mutating func skip(past byte: UInt8) throws -> Bool {
        while position < input.size {
            if position < windowStart || position >= windowStart + window.count { try fill() }
            let start = position - windowStart
            if let found = window[start...].firstIndex(of: byte) {
                position = windowStart + found + 1
                return true
            }
            position = windowStart + window.count
        }
        return false
    }

    private mutating func fill() throws {
        windowStart = position
        let count = min(Self.windowSize, input.size - position)
        switch input {
        case .bytes(let bytes):
            window = Array(bytes[position..<position + count])
        case .file(let descriptor, _):
            window = [UInt8](repeating: 0, count: count)
            let read = window.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(position)) }
            guard read == count else { throw ImagingError.processingFailed("cannot read the image at \(position)") }
        }
    }
}
