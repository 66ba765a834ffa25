package import CHOMCore
package import Foundation

extension S3Target {
    /// Presigned requests for `operation` on the object `key` (relative to the target's key prefix),
    /// valid for `lifetimeSeconds` from `now`. Pure: no request is made. Only `host` is signed and the
    /// payload is unsigned, so a URL is good for one method on one object (and one upload and part
    /// number for parts) and nothing else: not another key, not a listing, not a delete.
    package func presign(
        _ operation: PresignedOperation, key: String, lifetimeSeconds: Int, now: Date
    ) throws(CHOMError) -> [PresignedHTTPRequest] {
        try S3ObjectKey.validate(key)
        try operation.validate()
        let fullKey = keyPrefix + key
        let expiresAt = now.addingTimeInterval(Double(lifetimeSeconds))
        func one(_ method: String, _ query: [(name: String, value: String)], part: Int? = nil) throws(CHOMError)
            -> PresignedHTTPRequest
        {
            let request = client.sigV4Request(method, key: fullKey, query: query, payload: .unsigned)
            let url = try client.signer.presign(request, date: now, lifetimeSeconds: lifetimeSeconds)
            return PresignedHTTPRequest(method: method, url: url, partNumber: part, expiresAt: expiresAt)
        }
        switch operation {
        case .get:
            return [try one("GET", [])]
        case .put:
            return [try one("PUT", [])]
        case .createMultipartUpload:
            return [try one("POST", [(name: "uploads", value: "")])]
        case .uploadParts(let uploadID, let parts):
            var requests: [PresignedHTTPRequest] = []
            for part in parts {
                requests.append(try one(
                    "PUT", [(name: "partNumber", value: String(part)), (name: "uploadId", value: uploadID)], part: part))
            }
            return requests
        case .completeMultipartUpload(let uploadID):
            return [try one("POST", [(name: "uploadId", value: uploadID)])]
        case .abortMultipartUpload(let uploadID):
            return [try one("DELETE", [(name: "uploadId", value: uploadID)])]
        }
    }
}
