import CHOMCore
import Crypto
package import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a downloading artifact to its `.part` file while hashing it, refusing any byte past
/// the size the signed task declared.
///
/// `@unchecked Sendable`: one fetch uses a sink from one task at a time (chunks arrive in order
/// from a single response stream); the mutable state is never touched concurrently.
package final class ArtifactSink: @unchecked Sendable {
    package let path: String
    package let limit: UInt64
    private var fd: Int32
    private var hasher = SHA256()
    package private(set) var count: UInt64 = 0

    /// Creates (truncating) `path` with mode 0600; never follows a symlink there.
    package init(path: String, limit: UInt64) throws {
        self.path = path
        self.limit = limit
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)  // not a tenant path: root's .part file in .incoming/ (root, 0711)
        guard fd >= 0 else { throw DeployFailure(step: .fetch, reason: "cannot create \(path): \(Self.errorText())") }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    package func write(_ data: Data) throws {
        guard !data.isEmpty else { return }
        guard UInt64(data.count) <= limit - min(limit, count) else {
            throw DeployFailure(step: .fetch, reason: "the artifact is larger than the signed size of \(limit) bytes")
        }
        hasher.update(data: data)
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw DeployFailure(step: .fetch, reason: "cannot write \(path): \(Self.errorText())")
                }
                offset += written
            }
        }
        count += UInt64(data.count)
    }

    /// Closes the file; returns the byte count and the lowercase hex SHA-256.
    package func finish() throws -> (size: UInt64, sha256: String) {
        if fd >= 0 {
            let result = close(fd)
            fd = -1
            guard result == 0 else { throw DeployFailure(step: .fetch, reason: "cannot close \(path)") }
        }
        let digest = Hex.encode(hasher.finalize())
        return (count, digest)
    }

    private static func errorText() -> String {
        String(cString: strerror(errno))
    }
}

private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
