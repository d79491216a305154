import MariaDB
#if canImport(Glibc)
import Glibc
#endif

/// What a request named that is not there, or is another user's: the two answer alike.
public enum MediaResource: String, Sendable {
    case asset, attachment, owner, job
}

/// Why a use case refused, in the domain's words. MediaAPI maps each case to one HTTP status
/// and error code, in one place; anything else thrown is a server-side failure.
public enum MediaError: Error, Equatable, Sendable {
    case notFound(MediaResource)
    /// Attachment ids that are not the owner's (a reorder).
    case notAttachmentsOfOwner([String])
    /// A value breaks a rule of the record it would go into; `code` names the rule.
    case invalid(code: String, message: String)
    /// Another writer held the owner's lock for the whole wait.
    case ownerBusy
    /// Deadlock or lock wait timeout that outlasted the transaction's retries.
    case busy
    /// A unique key refused the write.
    case conflict
    case databaseUnavailable(detail: String)
    /// The file does not fit in what is left of the user's storage quota.
    case quotaExceeded(usedBytes: Int64, limitBytes: Int64, fileBytes: Int64)
    /// A per-user generation limit is reached; another job may be queued after `retryAfterSeconds`.
    case generationLimit(GenerationLimit, limit: Int, retryAfterSeconds: Int)
    /// The origin storage (a bucket) did not answer, or refused our keys; nothing was kept.
    case storageUnavailable(detail: String)
    /// The storage root or the staging area is full (ENOSPC, or EDQUOT of a file-system
    /// quota); what the request had written is removed.
    case insufficientStorage(detail: String)

    /// The domain meaning of an error from a layer below, where it has one: the API calls
    /// this once per failed request instead of knowing the database's errors.
    public init?(classifying error: any Error) {
        if let error = error as? MediaError {
            self = error
            return
        }
        if let error = error as? StorageError, error.errno == ENOSPC || error.errno == EDQUOT {
            self = .insufficientStorage(detail: error.description)
            return
        }
        guard let error = error as? DatabaseError else { return nil }
        if error.isConnectionFailure {
            self = .databaseUnavailable(detail: error.description)
        } else if error.isLockWaitTimeout || error.isDeadlock {
            self = .busy
        } else if error.isDuplicateKey {
            self = .conflict
        } else {
            return nil
        }
    }
}
