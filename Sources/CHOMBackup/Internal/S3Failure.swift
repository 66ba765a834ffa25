import AsyncHTTPClient
import CHOMCore
import NIOFileSystem

/// How S3 failures become `CHOMError`s. Messages name the operation, the object, the HTTP status
/// and S3's error Code/Message; never a header, a signature or the secret.
enum S3Failure {
    /// A non-2xx answer, with the `<Error>` document when the server sent one.
    static func status(
        _ operation: S3Client.Operation, subject: String, status: Int, error: S3XML.ErrorResponse?
    ) -> CHOMError {
        var message = "S3 \(operation.rawValue) of \(subject) failed: HTTP \(status)"
        if let error {
            message += " \(error.code)"
            let detail = error.message.prefix(300)
            if !detail.isEmpty { message += ": \(detail)" }
        }
        return CHOMError(code(status: status, s3Code: error?.code), message, underlying: error.map(S3ServerError.init))
    }

    /// A failure while an upload reads its local file; other errors (a `CHOMError` of the request) pass through.
    static func reading(_ error: any Error, subject: String) -> any Error {
        guard let error = error as? FileSystemError else { return error }
        return CHOMError(
            error.code == .notFound ? .notFound : .invalidInput,
            "cannot read the backup file for \(subject): \(error.message)", underlying: error)
    }

    /// No answer at all: connection refused, TLS failure, timeout, a body that broke off.
    static func transport(_ operation: S3Client.Operation, subject: String, underlying: any Error) -> CHOMError {
        if let error = underlying as? CHOMError { return error }
        let reason = (underlying as? HTTPClientError).map { " (\($0.shortDescription))" } ?? ""
        return CHOMError(
            .unavailable, "S3 \(operation.rawValue) of \(subject) failed: no answer from the endpoint\(reason)",
            underlying: SendableDescription(String(reflecting: underlying)))
    }

    static func code(status: Int, s3Code: String?) -> CHOMError.Code {
        switch (status, s3Code ?? "") {
        case (_, "NoSuchKey"), (_, "NoSuchBucket"), (_, "NoSuchUpload"), (404, _): .notFound
        case (_, "SignatureDoesNotMatch"), (_, "InvalidAccessKeyId"), (_, "ExpiredToken"), (401, _): .unauthorized
        case (_, "AccessDenied"), (403, _): .forbidden
        case (_, "EntityTooLarge"), (413, _): .payloadTooLarge
        case (_, "SlowDown"), (429, _), (500..., _): .unavailable
        case (409, _), (412, _): .conflict
        case (400, _): .invalidInput
        default: .refused
        }
    }
}

/// S3's error document as the underlying error of a `CHOMError`, for `debugDescription`.
struct S3ServerError: Error, Sendable, CustomStringConvertible {
    var response: S3XML.ErrorResponse
    init(_ response: S3XML.ErrorResponse) { self.response = response }
    var description: String {
        "S3 error \(response.code)" + (response.requestID.map { " (request id \($0))" } ?? "")
    }
}

/// A non-Sendable underlying error kept as its text.
struct SendableDescription: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
