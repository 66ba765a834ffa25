import AsyncHTTPClient
import CHOMCore
package import Foundation
import NIOCore
import NIOFileSystem
import NIOHTTP1

extension S3Target {
    /// Streams the object to `destination`. The file is created transactionally (NIOFileSystem
    /// writes a temporary file and renames it over `destination` when closed after success), so
    /// `destination` is either the whole object or untouched. The byte count is checked against
    /// `Content-Length`.
    package func get(key: String, to destination: URL) async throws {
        try S3ObjectKey.validate(key)
        let subject = "'\(key)'"
        let request = client.sigV4Request("GET", key: keyPrefix + key, payload: .empty)
        let response = try await client.send(.getObject, request, subject: subject)
        try await Self.write(response, to: destination, subject: subject)
    }

    /// Streams a GetObject answer into `destination`, created whole or not at all, its length
    /// checked against `Content-Length`.
    static func write(_ response: HTTPClientResponse, to destination: URL, subject: String) async throws {
        let expected = response.headers.first(name: "content-length").flatMap { Int64($0) }
        do {
            try await FileSystem.shared.withFileHandle(
                forWritingAt: FilePath(destination.path),
                options: .newFile(replaceExisting: true, permissions: [.ownerRead, .ownerWrite])
            ) { handle in
                var writer = handle.bufferedWriter()
                var written: Int64 = 0
                do {
                    for try await chunk in response.body { written += try await writer.write(contentsOf: chunk) }
                } catch let error as FileSystemError {
                    throw error
                } catch {
                    throw S3Failure.transport(.getObject, subject: subject, underlying: error)
                }
                try await writer.flush()
                if let expected, written != expected {
                    throw CHOMError(
                        .integrity, "S3 GetObject of \(subject) delivered \(written) of \(expected) bytes")
                }
            }
        } catch let error as FileSystemError {
            throw CHOMError(
                .unavailable, "cannot write the download of \(subject): \(error.message)", underlying: error)
        }
    }
}
