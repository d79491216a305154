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

    var estimatedByteCount: Int { 64 + items.estimatedByteCount }

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("items"); json.value(items)
            if let nextCursor { json.key("nextCursor"); json.string(nextCursor) }
        }
    }
}
