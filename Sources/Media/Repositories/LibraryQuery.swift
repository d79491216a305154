import Foundation
import MariaDB

/// A page request against a user's library: newest first, keyset-paginated on
/// (createdAt, id), optionally filtered by type, tag and title.
public struct LibraryQuery: Sendable, Equatable {
    public var userId: String
    public var limit: Int
    public var after: LibraryCursor?
    public var type: MediaType?
    public var tag: String?
    public var titleContains: String?

    public init(userId: String, limit: Int = 50, after: LibraryCursor? = nil, type: MediaType? = nil,
                tag: String? = nil, titleContains: String? = nil) {
        self.userId = userId
        self.limit = limit
        self.after = after
        self.type = type
        self.tag = tag
        self.titleContains = titleContains
    }
}

/// The opaque position after the last item of a page: base64url of `v1:<createdAt ms>:<id>`.
/// Keyset pagination costs the same at any depth and never skips or repeats a row when
/// rows are inserted between pages.
public struct LibraryCursor: Sendable, Equatable {
    public let createdAt: Date
    public let id: String

    public init(createdAt: Date, id: String) {
        self.createdAt = createdAt
        self.id = id
    }

    public var token: String {
        let milliseconds = Int64((createdAt.timeIntervalSince1970 * 1000).rounded())
        return Base64URL.encode(Array("v1:\(milliseconds):\(id)".utf8))
    }

    /// nil for anything that is not a cursor this service issued.
    public init?(token: String) {
        guard token.utf8.count <= 200 else { return nil }
        guard let data = Base64URL.decode(token) else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: ":", maxSplits: 2)
        // Only dates a DATETIME(3) column can hold: the cursor is bound as one.
        guard parts.count == 3, parts[0] == "v1", let milliseconds = Int64(parts[1]),
              DateTimeRange.milliseconds.contains(milliseconds),
              MediaID.isWellFormed(String(parts[2])) else { return nil }
        createdAt = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        id = String(parts[2])
    }
}

extension LibraryCursor {
    /// Rows after this position in (createdAt DESC, id DESC) order. Spelled out rather than
    /// as a row comparison, which MariaDB does not turn into an index range; the leading
    /// `createdAt <= ?` bounds the range on createdAt.
    var keysetCondition: (sql: String, arguments: [any DatabaseValueConvertible]) {
        ("`createdAt` <= ? AND (`createdAt` < ? OR (`createdAt` = ? AND `id` < ?))", [createdAt, createdAt, createdAt, id])
    }

    /// A page from a fetch of `limit + 1` rows: the first `limit`, and the cursor after the
    /// last of them when another page follows.
    /// The rows are consumed: the page is their array, shortened in place, not a copy of
    /// every record.
    static func page<Item>(_ rows: consuming [Item], limit: Int,
                           position: (Item) -> LibraryCursor) -> (items: [Item], next: LibraryCursor?) {
        var items = rows
        guard items.count > limit else { return (items, nil) }
        items.removeSubrange(max(0, limit)...)
        return (items, items.last.map(position))
    }
}

/// Escapes LIKE wildcards so a search for `50%_off` finds exactly that text.
/// Pairs with `ESCAPE '!'` (not backslash, which NO_BACKSLASH_ESCAPES would change).
func likePattern(containing text: String) -> String {
    var escaped = ""
    for character in text {
        if character == "!" || character == "%" || character == "_" { escaped.append("!") }
        escaped.append(character)
    }
    return "%" + escaped + "%"
}
