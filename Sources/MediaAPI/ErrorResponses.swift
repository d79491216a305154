import FastCGI
import Media
import ServerLog

/// Every error a request can end in, mapped to its HTTP status and error code: this is the
/// one place where the domain's refusals become HTTP.
extension APIError {
    init(answering error: any Error, requestId: String) {
        switch error {
        case let error as APIError: self = error
        case let error as RequestBodyError: self = APIError(requestBody: error)
        case let error as MultipartError: self = APIError(status: error.httpStatus, code: error.code, message: error.message)
        case let error as IngestError: self = APIError(ingest: error)
        default:
            if let failure = MediaError(classifying: error) {
                self = APIError(failure, requestId: requestId)
            } else {
                Log.error("request.failed", ["requestId": .string(requestId), "error": .string(String(describing: error))])
                self = .internalError
            }
        }
    }

    init(_ error: MediaError, requestId: String) {
        switch error {
        case .notFound(let resource):
            switch resource {
            case .asset: self = .notFound("No such asset (it must be yours, ready and not deleted).")
            case .attachment: self = .notFound("No such attachment.")
            case .owner: self = .notFound("No such owner.")
            case .job: self = .notFound("No such job.")
            }
        case .notAttachmentsOfOwner(let ids):
            self = .notFound("Not attachments of this owner: \(ids.prefix(5).joined(separator: ", ")).")
        case .invalid(let code, let message):
            self = .unprocessable(message, code: code)
        case .ownerBusy, .busy:
            Log.warning("database.busy", ["requestId": .string(requestId), "error": .string("\(error)")])
            self = APIError(status: 503, code: "busy", message: "Too many concurrent changes; try again.",
                            headers: [("Retry-After", "1")])
        case .conflict:
            self = .conflict("That already exists.", code: "conflict")
        case .quotaExceeded(let used, let limit, let size):
            // 413, not 403: the request is refused for its size (a smaller file may fit),
            // not for who sent it; upload clients already show a 413 as "too large".
            self = APIError(status: 413, code: "quota_exceeded",
                            message: "This file (\(size) bytes) does not fit in your storage quota: "
                                + "\(used) of \(limit) bytes are used. Delete some media to make room.",
                            details: [("usedBytes", .integer(used)), ("limitBytes", .integer(limit)),
                                      ("fileBytes", .integer(size))])
        case .generationLimit(let which, let limit, let retryAfter):
            let what = switch which {
            case .queued: "\(limit) generation jobs queued or running at once"
            case .perHour: "\(limit) generation jobs per hour"
            }
            self = APIError(status: 429, code: "generation_limit",
                            message: "You have reached the limit of \(what); try again in \(retryAfter) s.",
                            headers: [("Retry-After", String(retryAfter))],
                            details: [("limit", .text(which.rawValue)), ("max", .integer(Int64(limit))),
                                      ("retryAfterSeconds", .integer(Int64(retryAfter)))])
        case .databaseUnavailable(let detail):
            Log.warning("database.unavailable", ["requestId": .string(requestId), "error": .string(detail)])
            self = .unavailable("The database is unavailable; try again shortly.", code: "database_unavailable")
        case .storageUnavailable(let detail):
            Log.warning("storage.unavailable", ["requestId": .string(requestId), "error": .string(detail)])
            self = .unavailable("The file storage is unavailable; try again shortly.", code: "storage_unavailable")
        case .insufficientStorage(let detail):
            // An error, not a warning: an operator must free space or grow the volume.
            Log.error("storage.full", ["requestId": .string(requestId), "error": .string(detail)])
            self = APIError(status: 507, code: "insufficient_storage",
                            message: "The server has no room to store this file right now; try again later.")
        }
    }

    init(ingest error: IngestError) {
        switch error {
        case .tooLarge: self = APIError(status: 413, code: "file_too_large", message: error.message)
        case .empty: self = .badRequest(error.message, code: "empty_file")
        case .unsupportedType: self = .unsupportedMediaType(error.message)
        case .rejectedImage(.tooManyPixels), .rejectedImage(.decodeTooLarge):
            self = .unprocessable(error.message, code: "image_too_large")
        case .rejectedImage(.metadataTooLarge): self = .unprocessable(error.message, code: "metadata_too_large")
        case .rejectedImage: self = .unprocessable(error.message, code: "undecodable_image")
        case .rejectedVideo(let refusal):
            switch refusal {
            case .undecodable: self = .unprocessable(error.message, code: "undecodable_video")
            case .timedOut: self = .unprocessable(error.message, code: "video_analysis_timeout")
            case .tooLong: self = .unprocessable(error.message, code: "video_too_long")
            case .frameTooLarge: self = .unprocessable(error.message, code: "video_too_large")
            case .tooManyStreams: self = .unprocessable(error.message, code: "too_many_streams")
            }
        }
    }

    init(requestBody error: RequestBodyError) {
        switch error {
        case .lengthRequired: self = .lengthRequired()
        case .invalidLength(let value): self = .badRequest("Content-Length `\(value)` is not a byte count.")
        case .truncated(let expected, let received):
            self = .badRequest("The body ended after \(received) of \(expected) bytes.", code: "truncated_body")
        case .tooLarge(let limit): self = .payloadTooLarge(limit: limit)
        }
    }
}
