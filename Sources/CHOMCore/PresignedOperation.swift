package import Foundation

/// What an agent may ask presigned for the one object of its task. The coordinator, which alone
/// holds the bucket's credentials, signs each as a SigV4 query-string URL for that object only
/// (`S3Target.presign` in CHOMBackup); the agent makes the request with `PresignedS3Target`; CHOMProtocol carries both over `AgentGateway.PresignStorage`.
package enum PresignedOperation: Sendable, Equatable, CustomStringConvertible {
    /// GetObject: restores and verify drills.
    case get
    /// PutObject: an archive below the multipart threshold.
    case put
    case createMultipartUpload
    /// UploadPart, one URL per part number (1...10,000) of the upload `uploadID` of the same object.
    case uploadParts(uploadID: String, partNumbers: [Int])
    case completeMultipartUpload(uploadID: String)
    case abortMultipartUpload(uploadID: String)

    /// The most part URLs one call hands out.
    package static let maximumPartsPerCall = 100
    /// S3's highest part number.
    package static let maximumPartNumber = 10_000

    /// True for the operations that write the object (backups), false for reading it.
    package var writes: Bool {
        if case .get = self { return false }
        return true
    }

    package var description: String {
        switch self {
        case .get: "GetObject"
        case .put: "PutObject"
        case .createMultipartUpload: "CreateMultipartUpload"
        case .uploadParts(_, let parts): "UploadPart ×\(parts.count)"
        case .completeMultipartUpload: "CompleteMultipartUpload"
        case .abortMultipartUpload: "AbortMultipartUpload"
        }
    }

    /// Checks the upload id and part numbers before anything is signed.
    package func validate() throws(CHOMError) {
        switch self {
        case .get, .put, .createMultipartUpload:
            return
        case .uploadParts(let uploadID, let parts):
            try Self.validate(uploadID: uploadID)
            guard !parts.isEmpty, parts.count <= Self.maximumPartsPerCall else {
                throw CHOMError(.invalidInput, "ask for 1 to \(Self.maximumPartsPerCall) part URLs at a time")
            }
            guard parts.allSatisfy({ (1...Self.maximumPartNumber).contains($0) }), Set(parts).count == parts.count
            else { throw CHOMError(.invalidInput, "part numbers are distinct and 1 to \(Self.maximumPartNumber)") }
        case .completeMultipartUpload(let uploadID), .abortMultipartUpload(let uploadID):
            try Self.validate(uploadID: uploadID)
        }
    }

    private static func validate(uploadID: String) throws(CHOMError) {
        guard (1...1024).contains(uploadID.utf8.count),
            !uploadID.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F })
        else { throw CHOMError(.invalidInput, "the multipart upload id is empty, too long or holds blanks") }
    }
}

/// One request the holder may make: method and URL are exactly what was signed.
package struct PresignedHTTPRequest: Sendable, Equatable {
    package var method: String
    package var url: String
    /// The part it uploads, for `uploadParts`; nil otherwise.
    package var partNumber: Int?
    package var expiresAt: Date

    package init(method: String, url: String, partNumber: Int? = nil, expiresAt: Date) {
        self.method = method
        self.url = url
        self.partNumber = partNumber
        self.expiresAt = expiresAt
    }
}

