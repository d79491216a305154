import Media

/// One page of a keyset-paginated list: `{items, nextCursor}`, `nextCursor` null on the
/// last; without a cursor (`Page(items:)`), a plain `{items}` list.
struct Page<Item: JSONWritable>: JSONWritable {
    let items: [Item]
    var nextCursor: String??

    init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = .some(nextCursor)
    }

    init(items: [Item]) {
        self.items = items
        self.nextCursor = .none
    }

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("items"); json.value(items)
            if let nextCursor { json.key("nextCursor"); json.string(nextCursor) }
        }
    }
}

extension HTTPRequest {
    /// `limit` from the query: `fallback` when absent, a 400 outside 1...`maximum`.
    func pageLimit(fallback: Int, maximum: Int) throws -> Int {
        guard let text = queryValue("limit") else { return fallback }
        guard let limit = Int(text), (1...maximum).contains(limit) else {
            throw APIError.badRequest("`limit` is a number from 1 to \(maximum).", code: "invalid_limit")
        }
        return limit
    }

    /// `cursor` from the query: nil when absent, a 400 when it is not one this service issued.
    func pageCursor() throws -> LibraryCursor? {
        guard let token = queryValue("cursor"), !token.isEmpty else { return nil }
        guard let cursor = LibraryCursor(token: token) else {
            throw APIError.badRequest("`cursor` is not a cursor this service issued.", code: "invalid_cursor")
        }
        return cursor
    }

    /// A query or path value that must be one of an enum's cases; a 400 naming them otherwise.
    func enumValue<T: RawRepresentable & CaseIterable>(_ text: String, _ name: String, code: String) throws -> T
    where T.RawValue == String {
        try Self.enumValue(text, name, code: code)
    }

    static func enumValue<T: RawRepresentable & CaseIterable>(_ text: String, _ name: String, code: String) throws -> T
    where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            throw APIError.badRequest("Unknown \(name) `\(text)`; one of: "
                                      + T.allCases.map(\.rawValue).joined(separator: ", ") + ".", code: code)
        }
        return value
    }
}
