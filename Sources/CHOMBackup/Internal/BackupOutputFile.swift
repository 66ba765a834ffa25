#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CHOMCore
import Crypto
import Foundation

/// The archive file being written: a new file (never an existing one) that counts and hashes
/// every byte written, is fsynced when complete, and removed when abandoned.
final class BackupOutputFile {
    let path: String
    private var fd: Int32
    private var hasher = SHA256()
    private(set) var byteCount: UInt64 = 0

    init(creating url: URL) throws(CHOMError) {
        path = url.path
        fd = try BackupFileIO.createFile(path)
    }

    deinit { if fd >= 0 { close(fd) } }

    func write(_ data: Data) throws(CHOMError) {
        try BackupFileIO.writeAll(fd, data, path: path)
        hasher.update(data: data)
        byteCount += UInt64(data.count)
    }

    /// Flushes the file to disk and returns its digest.
    func complete() throws(CHOMError) -> BackupManifest.Archive {
        try BackupFileIO.sync(fd, path: path)
        close(fd)
        fd = -1
        try BackupFileIO.fsyncDirectory((path as NSString).deletingLastPathComponent)
        return BackupManifest.Archive(sha256: Hex.encode(hasher.finalize()), byteCount: byteCount)
    }

    /// Closes and deletes a partial archive.
    func discard() {
        if fd >= 0 { close(fd) }
        fd = -1
        unlink(path)
    }
}
