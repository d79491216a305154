import CGLib

/// SHA-256 and HMAC-SHA256 from GLib's GChecksum/GHmac: GLib is already linked for
/// libvips, so the service needs no crypto package for checksums and token signatures.
public struct SHA256: ~Copyable {
    private let checksum: OpaquePointer

    public init() { checksum = g_checksum_new(G_CHECKSUM_SHA256) }
    deinit { g_checksum_free(checksum) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        g_checksum_update(checksum, base.assumingMemoryBound(to: guchar.self), gssize(bytes.count))
    }

    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        Array(bytes).withUnsafeBytes { update($0) }
    }

    /// The digest as 64 lowercase hex characters.
    public consuming func finalizeHex() -> String { String(cString: g_checksum_get_string(checksum)) }

    public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var digest = SHA256()
        digest.update(bytes)
        return digest.finalizeHex()
    }
}

public enum HMACSHA256 {
    public static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8] {
        let hmac = key.withUnsafeBufferPointer { g_hmac_new(G_CHECKSUM_SHA256, $0.baseAddress, gsize($0.count)) }
        defer { g_hmac_unref(hmac) }
        message.withUnsafeBufferPointer { g_hmac_update(hmac, $0.baseAddress, gssize($0.count)) }
        var output = [UInt8](repeating: 0, count: 32)
        var length = gsize(32)
        g_hmac_get_digest(hmac, &output, &length)
        return output
    }

    /// Compares two codes in time that does not depend on where they differ.
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
