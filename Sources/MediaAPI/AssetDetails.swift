import Foundation

/// Title, description and tags as clients send them (upload form fields or PATCH JSON),
/// validated against the columns they end up in.
struct AssetDetails {
    static let maxTitleCharacters = 255           // VARCHAR(255)
    static let maxDescriptionCharacters = 10_000  // TEXT holds 65,535 bytes: 10,000 characters of any UTF-8 fit
    static let maxTags = 50
    static let maxTagCharacters = 64

    static func title(_ text: String?) throws -> String? {
        guard let text else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count <= maxTitleCharacters else {
            throw APIError.unprocessable("`title` is longer than \(maxTitleCharacters) characters.", code: "invalid_title")
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw APIError.unprocessable("`title` contains control characters.", code: "invalid_title")
        }
        return trimmed.isEmpty ? nil : trimmed
    }

    static func description(_ text: String?) throws -> String? {
        guard let text else { return nil }
        guard text.count <= maxDescriptionCharacters else {
            throw APIError.unprocessable("`description` is longer than \(maxDescriptionCharacters) characters.",
                                         code: "invalid_description")
        }
        return text.isEmpty ? nil : text
    }

    static func tags(_ tags: [String]) throws -> [String] {
        guard tags.count <= maxTags else {
            throw APIError.unprocessable("At most \(maxTags) tags.", code: "invalid_tags")
        }
        var unique: [String] = []
        for tag in tags {
            let trimmed = tag.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...maxTagCharacters).contains(trimmed.count),
                  !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw APIError.unprocessable("Each tag is 1 to \(maxTagCharacters) characters of text.", code: "invalid_tags")
            }
            if !unique.contains(trimmed) { unique.append(trimmed) }
        }
        return unique
    }

    /// The `tags` form field: a JSON array of strings.
    static func tags(formField text: String?) throws -> [String]? {
        guard let text else { return nil }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
              let array = parsed as? [Any], let strings = array as? [String],
              array.allSatisfy({ $0 is String }) else {
            throw APIError.unprocessable("`tags` must be a JSON array of strings, e.g. [\"poster\",\"night\"].",
                                         code: "invalid_tags")
        }
        return try tags(strings)
    }
}
