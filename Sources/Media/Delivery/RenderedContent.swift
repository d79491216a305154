import MariaDB

/// The key of what a read saw (see `ReadDigest`), for the API to keep renderings under.
public typealias ContentKey = MariaDB.ContentKey

/// Responses rendered already, each from exactly the content one `ContentKey` names: a
/// read whose content (every statement, value and row it read) has a rendering decodes
/// and presents nothing. The API keeps the renderings; the domain only asks.
public protocol RenderedContent: AnyObject {
    func contains(_ key: ContentKey) -> Bool
}

/// What a read answers when a rendering of its content may be at hand already.
public enum ContentAnswer<Value> {
    /// The content, decoded, and its key (to keep a rendering of it under): nil when the
    /// read was given no renderings to look in, and so kept no digest.
    case content(Value, key: ContentKey?)
    /// A rendering of exactly the content read is at hand under this key: nothing was decoded.
    case rendered(ContentKey)
}
