import Foundation

/// Title, description and tags as clients send them (upload form fields or PATCH JSON),
/// validated against the columns they end up in.
public enum AssetDetails {
    public static let maxTitleCharacters = 255           // VARCHAR(255)
    public static let maxDescriptionCharacters = 10_000  // TEXT holds 65,535 bytes: 10,000 characters of any UTF-8 fit
    public static let maxTags = 50
    public static let maxTagCharacters = 64

    /// Trimmed; nil when empty.
    public static func title(_ text: String?) throws -> String? {
        guard let text else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count <= maxTitleCharacters else {
            throw MediaError.invalid(code: "invalid_title", message: "`title` is longer than \(maxTitleCharacters) characters.")
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw MediaError.invalid(code: "invalid_title", message: "`title` contains control characters.")
        }
        return trimmed.isEmpty ? nil : trimmed
    }

    public static func description(_ text: String?) throws -> String? {
        guard let text else { return nil }
        guard text.count <= maxDescriptionCharacters else {
            throw MediaError.invalid(code: "invalid_description",
                                     message: "`description` is longer than \(maxDescriptionCharacters) characters.")
        }
        return text.isEmpty ? nil : text
    }

    /// Trimmed and without repeats, in the order given.
    public static func tags(_ tags: [String]) throws -> [String] {
        guard tags.count <= maxTags else {
            throw MediaError.invalid(code: "invalid_tags", message: "At most \(maxTags) tags.")
        }
        var unique: [String] = []
        for tag in tags {
            let trimmed = tag.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...maxTagCharacters).contains(trimmed.count),
                  !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw MediaError.invalid(code: "invalid_tags", message: "Each tag is 1 to \(maxTagCharacters) characters of text.")
            }
            if !unique.contains(trimmed) { unique.append(trimmed) }
        }
        return unique
    }
}
