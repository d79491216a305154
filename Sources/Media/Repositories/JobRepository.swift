import Foundation
import MariaDB

/// Reads and writes `MediaGenerationJob` rows.
public struct JobRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func insert(_ job: MediaGenerationJob) throws {
        try database.execute(MediaGenerationJob.insertStatement(count: 1), try job.insertValues())
    }

    public func find(id: String, userId: String) throws -> MediaGenerationJob? {
        guard MediaID.isWellFormed(id) else { return nil }
        return try MediaGenerationJob.fetchOne(database, """
            SELECT \(MediaGenerationJob.selection) FROM `MediaGenerationJob` WHERE `id` = ? AND `userId` = ?
            """, [id, userId])
    }

    /// The user's jobs, newest first, keyset-paginated like the library.
    public func jobs(userId: String, status: MediaJobStatus?, after: LibraryCursor?,
                     limit: Int) throws -> (jobs: [MediaGenerationJob], next: LibraryCursor?) {
        var conditions = ["`userId` = ?"]
        var arguments: [any DatabaseValueConvertible] = [userId]
        if let status {
            conditions.append("`status` = ?")
            arguments.append(status)
        }
        if let after = after?.keysetCondition {
            conditions.append(after.sql)
            arguments += after.arguments
        }
        arguments.append(limit + 1)
        let jobs = try MediaGenerationJob.fetchAll(database, """
            SELECT \(MediaGenerationJob.selection) FROM `MediaGenerationJob`
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY `createdAt` DESC, `id` DESC LIMIT ?
            """, arguments)
        let page = LibraryCursor.page(jobs, limit: limit) { LibraryCursor(createdAt: $0.createdAt, id: $0.id) }
        return (page.items, page.next)
    }

    // MARK: - Per-user limits

    /// The user's jobs that are queued or running.
    public func openCount(userId: String) throws -> Int {
        try database.queryOne("""
            SELECT COUNT(*) AS open FROM `MediaGenerationJob` WHERE `userId` = ? AND `status` IN (?, ?)
            """, [userId, MediaJobStatus.queued, MediaJobStatus.running])?.get("open") ?? 0
    }

    /// How many of the user's jobs were created after `date` (at most `limit` are read, on
    /// the (userId, createdAt) index), and the oldest of the newest `limit` of them.
    public func created(userId: String, since date: Date, counting limit: Int) throws -> (count: Int, oldest: Date?) {
        let row = try database.queryOne("""
            SELECT COUNT(*) AS count, MIN(`createdAt`) AS oldest FROM (
                SELECT `createdAt` FROM `MediaGenerationJob` WHERE `userId` = ? AND `createdAt` > ?
                ORDER BY `createdAt` DESC LIMIT ?) AS recent
            """, [userId, date, limit])
        return (try row?.get("count") ?? 0, try row?.get("oldest"))
    }

    // MARK: - The runner's side

    /// Claims the oldest queued job of `provider` (the one it was queued for: a host whose
    /// provider differs, e.g. during a change of MEDIA_GENERATION_PROVIDER, leaves it to
    /// one that has it), unless `limit` jobs already run in the whole database (every worker
    /// of every host). SKIP LOCKED lets other runners claim other jobs at the same time; a
    /// named lock makes the count-then-claim exact.
    public func claimNext(provider: String, limit: Int, liveSince: Date,
                          now: Date = .databaseNow) throws -> MediaGenerationJob? {
        // READ COMMITTED: the locking read must not lock the gap where new jobs are inserted.
        let claimed = try NamedLock(name: "media-generation-claim").holding(in: database, waitSeconds: 2) {
            () throws -> MediaGenerationJob? in
            try database.inTransaction(isolation: .readCommitted) { () throws -> MediaGenerationJob? in
                let running = try database.queryOne("""
                    SELECT COUNT(*) AS running FROM `MediaGenerationJob` WHERE `status` = ? AND `updatedAt` >= ?
                    """, [MediaJobStatus.running, liveSince])?.get("running", as: Int.self) ?? 0
                guard running < limit else { return nil }
                // In the order of the (status, updatedAt) index, so the locking read stops at the
                // first free row; ordering by createdAt would sort, reading and locking every
                // queued row, and block the INSERTs of new jobs meanwhile.
                guard var job = try MediaGenerationJob.fetchOne(database, """
                    SELECT \(MediaGenerationJob.selection) FROM `MediaGenerationJob`
                    WHERE `status` = ? AND `provider` = ? ORDER BY `updatedAt` LIMIT 1 FOR UPDATE SKIP LOCKED
                    """, [MediaJobStatus.queued, provider]) else { return nil }
                try database.execute("""
                    UPDATE `MediaGenerationJob` SET `status` = ?, `attempts` = `attempts` + 1, `startedAt` = ?,
                        `updatedAt` = ? WHERE `id` = ?
                    """, [MediaJobStatus.running, now, now, job.id])
                job.status = .running
                job.attempts += 1
                job.startedAt = now
                job.updatedAt = now
                return job
            }
        }
        return claimed ?? nil
    }

    /// The lease: a running job whose `updatedAt` goes stale belongs to a dead runner.
    public func heartbeat(id: String, now: Date = .databaseNow) throws {
        try database.execute("UPDATE `MediaGenerationJob` SET `updatedAt` = ? WHERE `id` = ? AND `status` = ?",
                             [now, id, MediaJobStatus.running])
    }

    /// Running jobs whose heartbeat stopped before `staleBefore`: queued again while
    /// attempts remain, else failed with the reason. Returns (requeued, failed) ids.
    public func reclaimStale(staleBefore: Date, maxAttempts: Int,
                             now: Date = .databaseNow) throws -> (requeued: [String], failed: [String]) {
        try database.inTransaction(isolation: .readCommitted) {
            let stale = try database.query("""
                SELECT `id`, `attempts` FROM `MediaGenerationJob`
                WHERE `status` = ? AND `updatedAt` < ? FOR UPDATE SKIP LOCKED
                """, [MediaJobStatus.running, staleBefore]).map { (try $0.get("id", as: String.self), try $0.get("attempts", as: Int.self)) }
            var requeued: [String] = [], failed: [String] = []
            for (id, attempts) in stale {
                if attempts < maxAttempts {
                    try database.execute("""
                        UPDATE `MediaGenerationJob` SET `status` = ?, `error` = ?, `updatedAt` = ? WHERE `id` = ?
                        """, [MediaJobStatus.queued, "attempt \(attempts) stopped: its worker died", now, id])
                    requeued.append(id)
                } else {
                    try database.execute("""
                        UPDATE `MediaGenerationJob` SET `status` = ?, `error` = ?, `completedAt` = ?, `updatedAt` = ?
                        WHERE `id` = ?
                        """, [MediaJobStatus.failed, "gave up after \(attempts) attempts: the worker running it died each time", now, now, id])
                    failed.append(id)
                }
            }
            return (requeued, failed)
        }
    }

    /// Provider facts and outcome, saved as soon as they are known.
    public func saveResult(id: String, _ result: JSONText, now: Date = .databaseNow) throws {
        try database.execute("UPDATE `MediaGenerationJob` SET `result` = ?, `updatedAt` = ? WHERE `id` = ?",
                             [result, now, id])
    }

    public func succeed(id: String, assetId: String, result: JSONText, now: Date = .databaseNow) throws {
        try database.execute("""
            UPDATE `MediaGenerationJob` SET `status` = ?, `resultAssetId` = ?, `result` = ?, `error` = NULL,
                `completedAt` = ?, `updatedAt` = ? WHERE `id` = ?
            """, [MediaJobStatus.succeeded, assetId, result, now, now, id])
    }

    public func fail(id: String, error: String, result: JSONText?, now: Date = .databaseNow) throws {
        try database.execute("""
            UPDATE `MediaGenerationJob` SET `status` = ?, `error` = ?, `result` = COALESCE(?, `result`),
                `completedAt` = ?, `updatedAt` = ? WHERE `id` = ?
            """, [MediaJobStatus.failed, String(error.prefix(4000)), result, now, now, id])
    }

    /// Back to the queue after a failure worth another attempt (e.g. storage down).
    public func requeue(id: String, error: String, now: Date = .databaseNow) throws {
        try database.execute("""
            UPDATE `MediaGenerationJob` SET `status` = ?, `error` = ?, `updatedAt` = ? WHERE `id` = ?
            """, [MediaJobStatus.queued, String(error.prefix(4000)), now, id])
    }

    public struct ProviderMetric: Encodable, Sendable {
        public let provider: String
        public let outcome: String
        public let count: Int
        public let meanLatencyMs: Double?
        public let maxLatencyMs: Double?
    }

    /// Jobs finished in the last `hours`, per provider and outcome, with provider latency.
    public func metrics(hours: Int = 24) throws -> [ProviderMetric] {
        try database.query("""
            SELECT `provider`, COALESCE(JSON_VALUE(`result`, '$.outcome'), `status`) AS outcome, COUNT(*) AS count,
                AVG(JSON_VALUE(`result`, '$.facts.latencyMs')) AS meanLatency,
                MAX(CAST(JSON_VALUE(`result`, '$.facts.latencyMs') AS DOUBLE)) AS maxLatency
            FROM `MediaGenerationJob`
            WHERE `status` IN (?, ?) AND `updatedAt` > ? - INTERVAL ? HOUR
            GROUP BY `provider`, outcome ORDER BY `provider`, outcome
            """, [MediaJobStatus.succeeded, MediaJobStatus.failed, Date.databaseNow, hours]).map { row in
            ProviderMetric(provider: try row.get("provider"), outcome: try row.get("outcome"),
                           count: try row.get("count"), meanLatencyMs: try row.get("meanLatency"),
                           maxLatencyMs: try row.get("maxLatency"))
        }
    }
}
