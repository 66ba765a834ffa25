package import CHOMCore
import NIOCore

extension S3Target {
    /// A multipart upload that was started and neither completed nor aborted.
    package struct PendingUpload: Sendable, Equatable {
        /// Relative to the target's key prefix, like `BackupObject.key`.
        package var key: String
        package var uploadID: String
    }

    /// The unfinished multipart uploads under `prefix` (first page only, up to 1000), for
    /// clean-up and for checking that failed uploads were aborted.
    package func pendingUploads(prefix: String) async throws -> [PendingUpload] {
        try S3ObjectKey.validate(prefix: prefix)
        let request = client.sigV4Request(
            "GET", key: nil, query: [(name: "uploads", value: ""), (name: "prefix", value: keyPrefix + prefix)],
            payload: .empty)
        let answer = try await client.perform(.listMultipartUploads, request, subject: "prefix '\(prefix)'")
        return try S3XML.multipartUploads(from: answer.body.readableBytesView).compactMap { upload in
            guard upload.key.hasPrefix(keyPrefix) else { return nil }
            return PendingUpload(key: String(upload.key.dropFirst(keyPrefix.count)), uploadID: upload.uploadID)
        }
    }
}

extension S3XML {
    /// Key and UploadId of every `<Upload>` of a ListMultipartUploadsResult document.
    package static func multipartUploads(
        from body: some Collection<UInt8>
    ) throws(CHOMError) -> [(key: String, uploadID: String)] {
        let bytes = Array(body.prefix(maximumDocumentSize + 1))
        guard bytes.count <= maximumDocumentSize,
            let result = elementContent("ListMultipartUploadsResult", in: bytes[...])
        else { throw CHOMError(.invalidInput, "the ListMultipartUploads response is not a ListMultipartUploadsResult") }
        var uploads: [(key: String, uploadID: String)] = []
        var rest = result
        while let upload = elementContent("Upload", in: rest) {
            guard let key = elementContent("Key", in: upload).flatMap(text),
                let id = elementContent("UploadId", in: upload).flatMap(text)
            else { throw CHOMError(.invalidInput, "a ListMultipartUploads entry has no Key or UploadId") }
            uploads.append((key, id))
            rest = result[upload.endIndex...]
        }
        return uploads
    }
}
