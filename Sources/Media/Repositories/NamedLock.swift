import Hashing
import MariaDB

/// A MariaDB named lock (`GET_LOCK`) held around a piece of work: it serialises the writers
/// of one thing (an owner's attachments, a user's quota, a user's generation limits, the job
/// claim) across every worker and host that shares the database. The server drops it with
/// the connection, so a crashed worker cannot leave it held.
struct NamedLock {
    let name: String

    init(name: String) {
        self.name = name
    }

    /// The lock of one `key` within `scope`: the key is hashed, as names are at most 64 characters.
    init(_ scope: String, key: String) {
        name = "media-\(scope):" + SHA256.hex(Array(key.utf8)).prefix(40)
    }

    /// Runs `body` holding the lock; nil when another session held it for all of `waitSeconds`.
    func holding<T>(in database: Database, waitSeconds: Int, _ body: () throws -> T) throws -> T? {
        let acquired = try database.queryOne("SELECT GET_LOCK(?, ?) AS acquired", [name, waitSeconds])?
            .get("acquired", as: Int?.self)
        guard acquired == 1 else { return nil }
        defer { _ = try? database.query("SELECT RELEASE_LOCK(?)", [name]) }
        return try body()
    }
}
