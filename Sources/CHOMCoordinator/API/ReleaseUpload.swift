import CHOMCore
import CHOMStore
import Crypto
import Foundation
import Hummingbird

/// Streams an uploaded release (tar.zst or tar.gz, recognised by its magic bytes) into
/// the store while hashing it, with a size cap. Memory stays bounded whatever the size.
struct ReleaseUpload {
    let store: Store
    let maxBytes: Int

    func receive(_ request: Request, for site: SiteRecord, now: Date, in transaction: AuditedTransaction) async throws
        -> ReleaseRecord
    {
        var format: String?
        return try await store.releases.create(
            id: ReleaseID(), siteID: site.id, format: "tar.zst", now: now, in: transaction
        ) { writer in
            var hasher = SHA256()
            var size: Int64 = 0
            for try await buffer in request.body {
                let bytes = Array(buffer: buffer)
                size += Int64(bytes.count)
                guard size <= Int64(maxBytes) else {
                    throw CHOMError(.payloadTooLarge, "the release is larger than the limit of \(maxBytes) bytes")
                }
                if format == nil, size >= 4 || !bytes.isEmpty {
                    format = try Self.format(of: bytes)
                }
                hasher.update(data: bytes)
                try await writer.append(bytes)
            }
            guard size > 0, let format else { throw CHOMError(.invalidInput, "the release body is empty") }
            if format != "tar.zst" { try await writer.setFormat(format) }
            return (Hex.encode(hasher.finalize()), size)
        }
    }

    static func format(of firstBytes: [UInt8]) throws -> String {
        if firstBytes.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return "tar.zst" }
        if firstBytes.starts(with: [0x1F, 0x8B]) { return "tar.gz" }
        throw CHOMError(.invalidInput, "a release must be a tar.zst or tar.gz archive")
    }
}
