package import AsyncHTTPClient
package import CHOMCore
package import Foundation
package import Logging
import NIOCore
import NIOFileSystem
import NIOHTTP1

/// The one object of one task, in S3-compatible storage the agent holds no credentials for: every
/// request goes to a URL that the coordinator presigned for this object (`presign`, which asks it
/// over mutual TLS). Uploads at or above `multipartThreshold` go multipart, part URLs fetched in
/// batches as the upload proceeds, so a slow upload never runs on an expired URL; any failure
/// aborts the upload. Listing and deleting are not possible: retention is the coordinator's.
package struct PresignedS3Target: BackupTarget {
    /// Signs `operation` for this task's object; throws when the coordinator refuses.
    package typealias Presign = @Sendable (PresignedOperation) async throws -> [PresignedHTTPRequest]

    package let objectKey: String
    package let multipartThreshold: Int
    package let partSize: Int
    package let requestTimeout: Duration
    let presign: Presign
    let http: HTTPClient
    let logger: Logger

    /// Part URLs asked for at a time.
    static let partBatch = 16

    package init(
        objectKey: String, multipartThreshold: Int = 16 * 1024 * 1024, partSize: Int = 16 * 1024 * 1024,
        requestTimeout: Duration = .seconds(900), httpClient: HTTPClient = .shared, logger: Logger,
        presign: @escaping Presign
    ) throws(CHOMError) {
        try S3ObjectKey.validate(objectKey)
        guard multipartThreshold >= MultipartPlan.minimumPartSize, partSize >= MultipartPlan.minimumPartSize,
            partSize <= MultipartPlan.maximumPartSize
        else { throw CHOMError(.invalidInput, "the multipart threshold and part size must be 5 MiB to 5 GiB") }
        self.objectKey = objectKey
        self.multipartThreshold = multipartThreshold
        self.partSize = partSize
        self.requestTimeout = requestTimeout
        self.presign = presign
        self.http = httpClient
        self.logger = logger
    }

    package func put(file: URL, key: String) async throws {
        _ = try await upload(file: file, key: key)
    }

    /// Uploads `file` as this task's object: one PUT below the threshold, multipart from there on.
    package func upload(file: URL, key: String) async throws -> S3Target.UploadResult {
        try checkKey(key)
        let subject = "'\(key)'"
        do {
            return try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(file.path)) { handle in
                let size = try await handle.info().size
                guard size < multipartThreshold else {
                    return try await multipartUpload(from: handle, size: size, key: key, subject: subject)
                }
                let url = try await single(.put)
                let answer = try await send(
                    .putObject, url, body: FileRegion(offset: 0, length: size).body(reading: handle), subject: subject)
                return S3Target.UploadResult(
                    key: key, size: UInt64(size), etag: answer.headers.first(name: "etag"), partCount: 1, multipart: false)
            }
        } catch {
            throw S3Failure.reading(error, subject: subject)
        }
    }

    /// Streams the object to `destination`, which appears only when whole (see `S3Target.get`).
    package func get(key: String, to destination: URL) async throws {
        try checkKey(key)
        let subject = "'\(key)'"
        let url = try await single(.get)
        var request = HTTPClientRequest(url: url.url)
        request.method = .GET
        let response = try await S3Client.execute(
            .getObject, request, http: http, timeout: requestTimeout, logger: logger, subject: subject)
        try await S3Target.write(response, to: destination, subject: subject)
    }

    package func delete(key: String) async throws {
        throw CHOMError(
            .forbidden, "this agent cannot delete \(BackupManifest.quote(key)): retention in object storage is the coordinator's")
    }

    package func list(prefix: String) async throws -> [BackupObject] {
        throw CHOMError(.forbidden, "this agent cannot list object storage: it reaches only its task's object")
    }

    private func checkKey(_ key: String) throws(CHOMError) {
        guard key == objectKey else {
            throw CHOMError(
                .forbidden,
                "this task may touch only \(BackupManifest.quote(objectKey)), not \(BackupManifest.quote(key))")
        }
    }

    private func single(_ operation: PresignedOperation) async throws -> PresignedHTTPRequest {
        let requests = try await presign(operation)
        guard requests.count == 1, let request = requests.first else {
            throw CHOMError(.integrity, "the coordinator answered \(requests.count) URLs for \(operation)")
        }
        return request
    }

    private func send(
        _ operation: S3Client.Operation, _ presigned: PresignedHTTPRequest, body: HTTPClientRequest.Body?,
        subject: String
    ) async throws(CHOMError) -> (headers: HTTPHeaders, body: ByteBuffer) {
        var request = HTTPClientRequest(url: presigned.url)
        request.method = HTTPMethod(rawValue: presigned.method)
        if let body {
            request.body = body
            request.headers.add(name: "content-type", value: "application/octet-stream")
        }
        let response = try await S3Client.execute(
            operation, request, http: http, timeout: requestTimeout, logger: logger, subject: subject)
        return try await S3Client.collect(operation, response, subject: subject)
    }

    private func multipartUpload(
        from handle: ReadFileHandle, size: Int64, key: String, subject: String
    ) async throws -> S3Target.UploadResult {
        let plan = try MultipartPlan(objectSize: Int(size), requestedPartSize: partSize)
        let initiated = try await send(
            .createMultipartUpload, try await single(.createMultipartUpload), body: nil, subject: subject)
        let uploadID = try S3XML.uploadID(fromInitiateResponse: initiated.body.readableBytesView)
        do {
            var completed: [S3XML.CompletedPart] = []
            var urls: [Int: PresignedHTTPRequest] = [:]
            for part in plan.parts {
                try Task.checkCancellation()
                if urls[part.number] == nil {
                    let batch = plan.parts.drop(while: { $0.number < part.number }).prefix(Self.partBatch).map(\.number)
                    for url in try await presign(.uploadParts(uploadID: uploadID, partNumbers: batch)) {
                        if let number = url.partNumber { urls[number] = url }
                    }
                }
                guard let url = urls.removeValue(forKey: part.number) else {
                    throw CHOMError(.integrity, "the coordinator sent no URL for part \(part.number) of \(subject)")
                }
                let region = FileRegion(offset: Int64(part.offset), length: Int64(part.length))
                let answer = try await send(.uploadPart, url, body: region.body(reading: handle), subject: subject)
                guard let etag = answer.headers.first(name: "etag"), !etag.isEmpty else {
                    throw CHOMError(.integrity, "S3 UploadPart \(part.number) of \(subject) answered without an ETag")
                }
                completed.append(S3XML.CompletedPart(partNumber: part.number, etag: etag))
            }
            try Task.checkCancellation()
            let document = Array(try S3XML.completeMultipartUploadBody(completed).utf8)
            var request = HTTPClientRequest(url: try await single(.completeMultipartUpload(uploadID: uploadID)).url)
            request.method = .POST
            request.headers.add(name: "content-type", value: S3XML.contentType)
            request.body = .bytes(ByteBuffer(bytes: document))
            let response = try await S3Client.execute(
                .completeMultipartUpload, request, http: http, timeout: requestTimeout, logger: logger, subject: subject)
            let answer = try await S3Client.collect(.completeMultipartUpload, response, subject: subject)
            if let error = S3XML.errorResponse(from: answer.body.readableBytesView) {
                throw S3Failure.status(.completeMultipartUpload, subject: subject, status: 200, error: error)
            }
            return S3Target.UploadResult(
                key: key, size: UInt64(size), etag: S3XML.completeMultipartUploadETag(from: answer.body.readableBytesView),
                partCount: plan.partCount, multipart: true)
        } catch {
            // Awaited in a task of its own so that a cancelled upload still aborts.
            let target = self
            await Task { await target.abort(uploadID: uploadID, subject: subject) }.value
            throw error
        }
    }

    /// Best effort, like `S3Target.abort`: the bucket's lifecycle rule is the backstop.
    private func abort(uploadID: String, subject: String) async {
        do {
            _ = try await send(.abortMultipartUpload, try await single(.abortMultipartUpload(uploadID: uploadID)),
                               body: nil, subject: subject)
        } catch {
            logger.warning("S3 multipart upload could not be aborted", metadata: [LogKey.error: "\(error)"])
        }
    }
}
