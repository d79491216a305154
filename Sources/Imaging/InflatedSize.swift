import CZlib

/// Measures what a zlib stream (a PNG zTXt, iTXt or iCCP payload) inflates to without
/// keeping any of it, and stops as soon as that passes `limit`: a 500 KB chunk that would
/// inflate to 512 MiB costs one 64 KiB scratch buffer and `limit` bytes of work.
/// A class: zlib's state points back at its `z_stream`, which must not move.
final class InflatedSize {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)
    private var ready: Bool
    private var ended = false
    let limit: Int
    private(set) var inflated = 0

    init(limit: Int) {
        self.limit = limit
        stream.initialize(to: z_stream())
        ready = inflateInit_(stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
    }

    deinit {
        if ready { inflateEnd(stream) }
        stream.deallocate()
    }

    /// Whether more input may change the answer: false once the stream ended, broke, or
    /// passed the limit.
    var wantsMore: Bool { ready && !ended && inflated <= limit }

    /// Feeds compressed bytes; answers `wantsMore`.
    func feed(_ piece: ArraySlice<UInt8>) -> Bool {
        guard wantsMore, !piece.isEmpty else { return wantsMore }
        var input = Array(piece)
        let stream = self.stream, limit = self.limit
        var total = inflated, finished = false
        input.withUnsafeMutableBufferPointer { compressed in
            scratch.withUnsafeMutableBufferPointer { output in
                stream.pointee.next_in = compressed.baseAddress
                stream.pointee.avail_in = UInt32(compressed.count)
                repeat {
                    stream.pointee.next_out = output.baseAddress
                    stream.pointee.avail_out = UInt32(output.count)
                    let status = inflate(stream, Z_NO_FLUSH)
                    total += output.count - Int(stream.pointee.avail_out)
                    // Z_BUF_ERROR: all input taken and no output pending; wait for more input.
                    if status == Z_BUF_ERROR && total <= limit { break }
                    // A damaged stream counts as far as it inflated: the decoder stops there too.
                    if status != Z_OK || total > limit {
                        finished = true
                        break
                    }
                } while stream.pointee.avail_in > 0 || stream.pointee.avail_out == 0
                stream.pointee.next_in = nil
                stream.pointee.next_out = nil
            }
        }
        inflated = total
        ended = finished
        return wantsMore
    }
}
