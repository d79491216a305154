import Foundation
import MariaDB

/// Which per-user generation limit refused a job.
public enum GenerationLimit: String, Sendable {
    /// `MEDIA_GENERATION_MAX_QUEUED`: jobs queued or running at once.
    case queued
    /// `MEDIA_GENERATION_PER_HOUR`: jobs created in the last hour.
    case perHour = "per_hour"
}

/// What one user may ask of the (paid) image provider. Counted from the user's job rows and
/// checked with the insert under the user's named lock, so that concurrent requests on any
/// worker or host cannot slip past a limit together. 0 turns a limit off.
public struct GenerationLimits: Sendable {
    public var maxQueued: Int
    public var perHour: Int
    /// What a refusal by `maxQueued` tells the client to wait: jobs take seconds.
    public static let queuedRetryAfterSeconds = 10

    public init(maxQueued: Int = 10, perHour: Int = 60) {
        self.maxQueued = maxQueued
        self.perHour = perHour
    }

    /// Inserts `job` unless the user is at a limit.
    func admit(_ job: MediaGenerationJob, in database: Database) throws {
        let jobs = JobRepository(database: database)
        guard maxQueued > 0 || perHour > 0 else { return try jobs.insert(job) }
        let admitted: Void? = try NamedLock("generate", key: job.userId).holding(in: database, waitSeconds: 10) {
            if maxQueued > 0, try jobs.openCount(userId: job.userId) >= maxQueued {
                throw MediaError.generationLimit(.queued, limit: maxQueued,
                                                 retryAfterSeconds: Self.queuedRetryAfterSeconds)
            }
            if perHour > 0 {
                let hourAgo = job.createdAt.addingTimeInterval(-3600)
                let recent = try jobs.created(userId: job.userId, since: hourAgo, counting: perHour)
                if recent.count >= perHour, let oldest = recent.oldest {
                    // When the oldest job of the window leaves it, one more fits.
                    let wait = oldest.timeIntervalSince(hourAgo).rounded(.up)
                    throw MediaError.generationLimit(.perHour, limit: perHour, retryAfterSeconds: max(1, Int(wait)))
                }
            }
            try jobs.insert(job)
        }
        guard admitted != nil else { throw MediaError.busy }
    }
}
