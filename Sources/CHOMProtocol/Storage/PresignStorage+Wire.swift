package import CHOMCore
package import Foundation

/// `PresignedOperation` and `PresignedHTTPRequest` on the wire of `AgentGateway.PresignStorage`:
/// the one place both sides convert.
extension PresignedOperation {
    /// The request an agent sends for `taskID`.
    package func request(taskID: String) -> Chom_Agent_V1_PresignStorageRequest {
        var request = Chom_Agent_V1_PresignStorageRequest()
        request.taskID = taskID
        switch self {
        case .get: request.operation = .getObject
        case .put: request.operation = .putObject
        case .createMultipartUpload: request.operation = .createMultipartUpload
        case .uploadParts(let uploadID, let parts):
            request.operation = .uploadParts
            request.uploadID = uploadID
            request.partNumbers = parts.map { UInt32(clamping: $0) }
        case .completeMultipartUpload(let uploadID):
            request.operation = .completeMultipartUpload
            request.uploadID = uploadID
        case .abortMultipartUpload(let uploadID):
            request.operation = .abortMultipartUpload
            request.uploadID = uploadID
        }
        return request
    }

    /// The operation a request asks for, validated (upload id, part numbers).
    package init(_ request: Chom_Agent_V1_PresignStorageRequest) throws(CHOMError) {
        switch request.operation {
        case .getObject: self = .get
        case .putObject: self = .put
        case .createMultipartUpload: self = .createMultipartUpload
        case .uploadParts: self = .uploadParts(uploadID: request.uploadID, partNumbers: request.partNumbers.map { Int($0) })
        case .completeMultipartUpload: self = .completeMultipartUpload(uploadID: request.uploadID)
        case .abortMultipartUpload: self = .abortMultipartUpload(uploadID: request.uploadID)
        case .unspecified, .UNRECOGNIZED:
            throw CHOMError(.invalidInput, "the presign request names no storage operation")
        }
        try validate()
    }
}

extension PresignedHTTPRequest {
    package init(_ wire: Chom_Agent_V1_PresignedRequest) {
        self.init(
            method: wire.method, url: wire.url, partNumber: wire.partNumber == 0 ? nil : Int(wire.partNumber),
            expiresAt: Date(timeIntervalSince1970: Double(wire.expiresAtMs) / 1000))
    }

    package var wire: Chom_Agent_V1_PresignedRequest {
        var wire = Chom_Agent_V1_PresignedRequest()
        wire.method = method
        wire.url = url
        wire.partNumber = UInt32(clamping: partNumber ?? 0)
        wire.expiresAtMs = Int64((expiresAt.timeIntervalSince1970 * 1000).rounded())
        return wire
    }
}
