import CMariaDB
import CXXHash

/// A fingerprint of everything a unit of reads saw (see `Database.recordingReads`): each
/// statement's SQL and bound values, then every row of its result byte for byte as the
/// server sent it (binary protocol: NULL bitmap, then each value). Two reads with the same
/// key ran the same statements and got the same rows, so whatever is made from those rows
/// alone (a rendered response) is the same too; any change to any column read changes it.
///
/// The hash is XXH3's 128 bits: 35 KB in 200 rows (a library page) hash in about 5 µs here,
/// where libcrypto's SHA-256 (SHA-NI) took 24, a tenth of the pool's time for a page found
/// kept. It is not a cryptographic hash, so
/// the key also carries its `scope` (the user whose data was read) and compares it whole:
/// no content of one user can ever be taken for another's, whatever it hashes to.
public final class ReadDigest {
    private let state: OpaquePointer
    private let scope: String

    /// `context`: what else the result depends on (the response's shape, the URLs'
    /// generation); `scope`: whose data the reads are confined to.
    public init(context: String, scope: String) {
        // Only fails without memory; then nothing could go on anyway.
        guard let state = XXH3_createState(), XXH3_128bits_reset(state) == XXH_OK else {
            fatalError("xxhash: cannot start a digest")
        }
        self.state = state
        self.scope = scope
        add(tag: "c", context)
        add(tag: "u", scope)
    }

    deinit { XXH3_freeState(state) }

    /// The key of what was read so far; reading can go on after.
    public var key: ContentKey {
        let hash = XXH3_128bits_digest(state)
        return ContentKey(scope: scope, high: hash.high64, low: hash.low64)
    }

    func add(statement sql: String, binds: UnsafeBufferPointer<MYSQL_BIND>) {
        add(tag: "s", sql)
        for bind in binds {
            var type = UInt32(bind.buffer_type.rawValue).littleEndian
            withUnsafeBytes(of: &type) { update($0) }
            guard let buffer = bind.buffer else { continue }
            if bind.buffer_type == MYSQL_TYPE_DATETIME {
                // The fields, not the struct: its padding is not ours to hash.
                var milliseconds = buffer.load(as: MYSQL_TIME.self).utcMilliseconds.littleEndian
                withUnsafeBytes(of: &milliseconds) { add(tag: "t", $0) }
            } else {
                add(tag: "p", UnsafeRawBufferPointer(start: buffer, count: Int(bind.buffer_length)))
            }
        }
    }

    func add(row places: ColumnPlaces) {
        guard let row = places.storedRow else { return add(tag: "n", UnsafeRawBufferPointer(start: nil, count: 0)) }
        add(tag: "r", row)
    }

    /// A tag and a length before the bytes: no two sequences of parts hash the same text.
    private func add(tag: Unicode.Scalar, _ bytes: UnsafeRawBufferPointer) {
        var header: UInt64 = (UInt64(bytes.count) << 8 | UInt64(UInt8(ascii: tag))).littleEndian
        withUnsafeBytes(of: &header) { update($0) }
        update(bytes)
    }

    /// Text by its UTF-8, in place (a statement's SQL is hashed on every execution).
    private func add(tag: Unicode.Scalar, _ text: String) {
        var text = text
        text.withUTF8 { add(tag: tag, UnsafeRawBufferPointer($0)) }
    }

    private func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        XXH3_128bits_update(state, base, bytes.count)
    }
}

/// A `ReadDigest`'s value: whose data it read, and the 128-bit fingerprint of what it saw.
public struct ContentKey: Hashable, Sendable {
    let scope: String
    let high: UInt64
    let low: UInt64

    /// The fingerprint in hex (32 digits): a validator's opaque part. The scope is the
    /// requester's own, so it need not show.
    public var fingerprintHex: String {
        let hex = { (word: UInt64) in
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return hex(high) + hex(low)
    }
}
