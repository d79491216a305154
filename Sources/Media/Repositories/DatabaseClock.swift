import Foundation

extension Date {
    /// Now, truncated to milliseconds: what DATETIME(3) keeps, so a record returned from a
    /// write equals the same record read back. Prisma leaves `@updatedAt` and ids to the
    /// client; this service fills them in on every write.
    public static var databaseNow: Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }
}
