import Foundation
import MariaDB

/// Reads and writes `MediaGenerationJob` rows.
public struct JobRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func insert(_ job: MediaGenerationJob) throws {
        try database.execute("""
            INSERT INTO `MediaGenerationJob` (\(MediaGenerationJob.columns))
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [job.id, job.userId, job.type.rawValue, job.prompt, job.negativePrompt, job.params, job.provider,
                  job.model, job.status.rawValue, job.error, job.attempts, job.result, job.resultAssetId,
                  job.startedAt, job.completedAt, job.createdAt, job.updatedAt])
    }

    public func find(id: String, userId: String) throws -> MediaGenerationJob? {
        guard MediaID.isWellFormed(id) else { return nil }
        return try database.queryOne("""
            SELECT \(MediaGenerationJob.columns) FROM `MediaGenerationJob` WHERE `id` = ? AND `userId` = ?
            """, [id, userId]).map(MediaGenerationJob.init(row:))
    }

    /// The user's jobs, newest first, keyset-paginated like the library.
    public func jobs(userId: String, status: MediaJobStatus?, after: LibraryCursor?,
                     limit: Int) throws -> (jobs: [MediaGenerationJob], next: LibraryCursor?) {
        var conditions = ["`userId` = ?"]
        var arguments: [any DatabaseValueConvertible] = [userId]
        if let status {
            conditions.append("`status` = ?")
            arguments.append(status.rawValue)
        }
        if let after {
            conditions.append("(`createdAt` < ? OR (`createdAt` = ? AND `id` < ?))")
            arguments += [after.createdAt, after.createdAt, after.id] as [any DatabaseValueConvertible]
        }
        arguments.append(limit + 1)
        var jobs = try database.query("""
            SELECT \(MediaGenerationJob.columns) FROM `MediaGenerationJob`
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY `createdAt` DESC, `id` DESC LIMIT ?
            """, arguments).map(MediaGenerationJob.init(row:))
        var next: LibraryCursor?
        if jobs.count > limit {
            jobs.removeLast()
            next = jobs.last.map { LibraryCursor(createdAt: $0.createdAt, id: $0.id) }
        }
        return (jobs, next)
    }
}
