/// Ids as Prisma's `@default(cuid())` shapes them (`c` + 24 lowercase base36 characters),
/// but drawn entirely from the system CSPRNG (~124 bits), so asset ids and the storage
/// paths built from them cannot be guessed or enumerated.
public enum MediaID {
    static let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = [UInt8(ascii: "c")]
        bytes.reserveCapacity(25)
        for _ in 0..<24 {
            // Rejection sampling keeps every character uniform: 252 = 7 × 36.
            var value: UInt8
            repeat { value = generator.next() } while value >= 252
            bytes.append(alphabet[Int(value % 36)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `text` is shaped like an id this service (or Prisma's cuid) makes. Used to
    /// answer 404 early for anything else, before it reaches a query.
    public static func isWellFormed(_ text: String) -> Bool {
        var text = text
        // The alphabet's two ranges, compared directly over the contiguous bytes (the UTF8View
        // iterator was 37 instructions a byte): batches check a thousand ids at once.
        return text.withUTF8 { utf8 in
            guard (20...32).contains(utf8.count), utf8.first == UInt8(ascii: "c") else { return false }
            return utf8.allSatisfy { (48...57).contains($0) || (97...122).contains($0) }
        }
    }
}
