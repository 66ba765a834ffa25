package import CHOMCore

extension S3XML {
    /// One page of a ListObjectsV2 answer. Keys are full object keys, the target's prefix included.
    package struct ListObjectsPage: Sendable, Equatable {
        package var objects: [BackupObject]
        package var isTruncated: Bool
        /// Present when `isTruncated`; passed back as `continuation-token`.
        package var nextContinuationToken: String?

        package init(objects: [BackupObject], isTruncated: Bool, nextContinuationToken: String?) {
            self.objects = objects
            self.isTruncated = isTruncated
            self.nextContinuationToken = nextContinuationToken
        }
    }

    /// Parses a `ListBucketResult` (ListObjectsV2) document: every `<Contents>` Key and Size,
    /// `IsTruncated` and `NextContinuationToken`. A truncated page without a token is refused.
    package static func listObjectsPage(from body: some Collection<UInt8>) throws(CHOMError) -> ListObjectsPage {
        let bytes = Array(body.prefix(maximumDocumentSize + 1))
        guard bytes.count <= maximumDocumentSize, let result = elementContent("ListBucketResult", in: bytes[...]) else {
            throw CHOMError(.invalidInput, "the ListObjectsV2 response is not a ListBucketResult document")
        }
        var objects: [BackupObject] = []
        var rest = result
        while let contents = elementContent("Contents", in: rest) {
            guard let key = elementContent("Key", in: contents).flatMap(text), !key.isEmpty,
                let sizeText = elementContent("Size", in: contents).flatMap(text), let size = UInt64(sizeText)
            else { throw CHOMError(.invalidInput, "a ListObjectsV2 entry has no valid Key or Size") }
            objects.append(BackupObject(key: key, size: size))
            rest = result[contents.endIndex...]
        }
        let isTruncated = elementContent("IsTruncated", in: result).flatMap(text) == "true"
        let token = elementContent("NextContinuationToken", in: result).flatMap(text)
        if isTruncated, token?.isEmpty ?? true {
            throw CHOMError(.invalidInput, "a truncated ListObjectsV2 response has no NextContinuationToken")
        }
        return ListObjectsPage(
            objects: objects, isTruncated: isTruncated, nextContinuationToken: isTruncated ? token : nil)
    }

    /// The `ETag` of a CompleteMultipartUploadResult document. S3 may answer completion with
    /// status 200 and an `<Error>` document: check `errorResponse(from:)` first.
    package static func completeMultipartUploadETag(from body: some Collection<UInt8>) -> String? {
        let bytes = Array(body.prefix(maximumDocumentSize + 1))
        guard bytes.count <= maximumDocumentSize,
            let result = elementContent("CompleteMultipartUploadResult", in: bytes[...])
        else { return nil }
        return elementContent("ETag", in: result).flatMap(text)
    }
}
