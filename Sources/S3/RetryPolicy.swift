import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Which failures are worth another attempt, which are a setting to fix, and how long to
/// wait between attempts.
enum RetryPolicy {
    enum Verdict: Equatable {
        case retry
        case configuration
        case rejected
    }

    /// Throttling and transient server trouble; S3 also sends some of these with a 200
    /// (CompleteMultipartUpload) or a 400 (RequestTimeout).
    static let retryableCodes: Set<String> = [
        "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling", "ThrottlingException",
        "TooManyRequests", "RequestLimitExceeded", "OperationAborted",
    ]

    /// Wrong keys, wrong bucket, wrong endpoint or region, a clock far off: no retry helps.
    static let configurationCodes: Set<String> = [
        "SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "NoSuchBucket", "InvalidBucketName",
        "AuthorizationHeaderMalformed", "PermanentRedirect", "RequestTimeTooSkewed", "AllAccessDisabled",
        "AccountProblem", "InvalidToken", "ExpiredToken",
    ]

    static func verdict(status: Int, code: String) -> Verdict {
        if retryableCodes.contains(code) { return .retry }
        if configurationCodes.contains(code) { return .configuration }
        if status >= 500 || status == 429 || status == 408 { return .retry }
        // HEAD answers carry no error body: 401/403 there can only be the keys or permissions.
        if code.isEmpty && (status == 401 || status == 403) { return .configuration }
        if status == 301 { return .configuration }
        return .rejected
    }

    static func verdict(transportError error: Error) -> Verdict {
        guard let code = (error as? URLError)?.code else { return .retry }
        switch code {
        case .badURL, .unsupportedURL, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected,
             .clientCertificateRequired, .userAuthenticationRequired:
            return .configuration
        default:
            return .retry
        }
    }

    /// `base` doubled per retry, capped, then scaled by a random 50–100 % so that workers
    /// failing together do not retry together.
    static func delay(afterAttempt attempt: Int, base: Double) -> Double {
        let exponent = Double(min(max(attempt - 1, 0), 30))
        let capped = min(S3Configuration.maxBackoffSeconds, max(base, 0) * pow(2, exponent))
        return capped * Double.random(in: 0.5...1.0)
    }
}
