import AsyncHTTPClient
import CHOMCore
import Crypto
import NIOCore
import NIOFileSystem

/// A byte range of an open local file, read in 1 MiB chunks: hashed for SigV4's
/// `x-amz-content-sha256`, then read again as the streamed request body. Never held in memory whole.
struct FileRegion: Sendable {
    static let chunkLength = ByteCount.mebibytes(1)

    var offset: Int64
    var length: Int64

    var range: Range<Int64> { offset..<(offset + length) }

    /// Lowercase hex SHA-256 of the region. Throws when the file is shorter than the region.
    func sha256Hex(reading handle: ReadFileHandle) async throws -> String {
        var hasher = SHA256()
        var seen: Int64 = 0
        for try await chunk in handle.readChunks(in: range, chunkLength: Self.chunkLength) {
            chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            seen += Int64(chunk.readableBytes)
        }
        guard seen == length else {
            throw CHOMError(.integrity, "the backup file changed size while it was being uploaded")
        }
        return Hex.encode(hasher.finalize())
    }

    /// The region as a request body of known length; the client fails the request if the file
    /// yields fewer or more bytes than that.
    func body(reading handle: ReadFileHandle) -> HTTPClientRequest.Body {
        .stream(handle.readChunks(in: range, chunkLength: Self.chunkLength), length: .known(length))
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String { Hex.encode(SHA256.hash(data: bytes)) }
}
