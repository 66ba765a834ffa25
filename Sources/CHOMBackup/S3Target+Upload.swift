import CHOMCore
package import Foundation
import NIOCore
import NIOFileSystem
import NIOHTTP1

extension S3Target {
    /// What an upload stored.
    package struct UploadResult: Sendable, Equatable {
        package var key: String
        package var size: UInt64
        /// As S3 returned it, quotes included; multipart ETags end in `-<part count>`.
        package var etag: String?
        /// 1 for a single PUT.
        package var partCount: Int
        package var multipart: Bool
    }

    /// Uploads `file` as `key`: one PUT below `multipartThreshold`, a multipart upload (aborted
    /// on any failure) from there on. Throws unless the object was stored whole.
    package func upload(file: URL, key: String) async throws -> UploadResult {
        try S3ObjectKey.validate(key)
        let fullKey = keyPrefix + key
        let subject = "'\(key)'"
        do {
            return try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(file.path)) { handle in
                let size = try await handle.info().size
                guard size < configuration.multipartThreshold else {
                    return try await multipartUpload(from: handle, size: size, key: key)
                }
                let region = FileRegion(offset: 0, length: size)
                let request = client.sigV4Request(
                    "PUT", key: fullKey, headers: [(name: "content-type", value: "application/octet-stream")],
                    payload: .sha256Hex(try await region.sha256Hex(reading: handle)))
                let answer = try await client.perform(
                    .putObject, request, body: region.body(reading: handle), subject: subject)
                return UploadResult(
                    key: key, size: UInt64(size), etag: answer.headers.first(name: "etag"), partCount: 1,
                    multipart: false)
            }
        } catch {
            throw S3Failure.reading(error, subject: subject)
        }
    }
}
