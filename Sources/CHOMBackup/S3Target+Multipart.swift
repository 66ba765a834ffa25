import CHOMCore
import Logging
import NIOCore
import NIOFileSystem
import NIOHTTP1

extension S3Target {
    /// CreateMultipartUpload, one UploadPart per planned part (each streamed from the file and
    /// hashed first), CompleteMultipartUpload. Any failure, cancellation included, aborts the
    /// upload so no parts are left behind, and is rethrown.
    func multipartUpload(from handle: ReadFileHandle, size: Int64, key: String) async throws -> UploadResult {
        let fullKey = keyPrefix + key
        let subject = "'\(key)'"
        let plan = try MultipartPlan(objectSize: Int(size), requestedPartSize: configuration.partSize)
        let initiate = client.sigV4Request(
            "POST", key: fullKey, query: [(name: "uploads", value: "")],
            headers: [(name: "content-type", value: "application/octet-stream")], payload: .empty)
        let initiated = try await client.perform(.createMultipartUpload, initiate, subject: subject)
        let uploadID = try S3XML.uploadID(fromInitiateResponse: initiated.body.readableBytesView)
        do {
            var parts: [S3XML.CompletedPart] = []
            for part in plan.parts {
                try Task.checkCancellation()
                let etag = try await uploadPart(
                    part, uploadID: uploadID, from: handle, fullKey: fullKey, subject: subject)
                parts.append(S3XML.CompletedPart(partNumber: part.number, etag: etag))
                try await onPartUploaded?(part.number, plan.partCount)
            }
            try Task.checkCancellation()
            let etag = try await complete(uploadID: uploadID, parts: parts, fullKey: fullKey, subject: subject)
            return UploadResult(key: key, size: UInt64(size), etag: etag, partCount: plan.partCount, multipart: true)
        } catch {
            // The abort runs in its own task so that cancelling the upload does not cancel the
            // clean-up too; it is awaited, so nothing outlives this call.
            let target = self
            await Task { await target.abort(uploadID: uploadID, fullKey: fullKey, subject: subject) }.value
            throw error
        }
    }

    private func uploadPart(
        _ part: MultipartPlan.Part, uploadID: String, from handle: ReadFileHandle, fullKey: String, subject: String
    ) async throws -> String {
        let region = FileRegion(offset: Int64(part.offset), length: Int64(part.length))
        let request = client.sigV4Request(
            "PUT", key: fullKey,
            query: [(name: "partNumber", value: String(part.number)), (name: "uploadId", value: uploadID)],
            payload: .sha256Hex(try await region.sha256Hex(reading: handle)))
        let answer = try await client.perform(
            .uploadPart, request, body: region.body(reading: handle), subject: subject)
        guard let etag = answer.headers.first(name: "etag"), !etag.isEmpty else {
            throw CHOMError(.integrity, "S3 UploadPart \(part.number) of \(subject) answered without an ETag")
        }
        return etag
    }

    private func complete(
        uploadID: String, parts: [S3XML.CompletedPart], fullKey: String, subject: String
    ) async throws -> String? {
        let memory = S3Client.memoryBody(Array(try S3XML.completeMultipartUploadBody(parts).utf8))
        let request = client.sigV4Request(
            "POST", key: fullKey, query: [(name: "uploadId", value: uploadID)],
            headers: [(name: "content-type", value: S3XML.contentType)], payload: memory.payload)
        let answer = try await client.perform(.completeMultipartUpload, request, body: memory.body, subject: subject)
        // S3 can fail a completion after it has sent 200: the failure is then an <Error> body.
        if let error = S3XML.errorResponse(from: answer.body.readableBytesView) {
            throw S3Failure.status(.completeMultipartUpload, subject: subject, status: 200, error: error)
        }
        return S3XML.completeMultipartUploadETag(from: answer.body.readableBytesView)
    }

    /// Best effort: a failed abort is logged (the bucket's lifecycle rule is the backstop) and
    /// the upload's own error is what the caller sees.
    func abort(uploadID: String, fullKey: String, subject: String) async {
        let request = client.sigV4Request(
            "DELETE", key: fullKey, query: [(name: "uploadId", value: uploadID)], payload: .empty)
        do {
            _ = try await client.perform(.abortMultipartUpload, request, subject: subject)
        } catch {
            logger.warning(
                "S3 multipart upload could not be aborted", metadata: [LogKey.error: "\(error.message)"])
        }
    }
}
