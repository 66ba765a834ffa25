#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
package import CHOMArchive
package import CHOMCore
package import Foundation

/// Restores a backup archive written by `BackupWriter` into a new directory, in this order:
/// 1. the archive file's SHA-256 and length must equal the recorded ones (`expected`);
/// 2. an encrypted archive is decrypted (and authenticated) frame by frame as it is extracted,
///    with no temporary file; without a key, or with another key, it is refused before the
///    destination is created;
/// 3. `SafeExtractor` unpacks the tar.zst stream, refusing traversal, absolute paths, symlink
///    escapes, hard links, devices and decompression bombs (`limits`); a frame that does not
///    authenticate, or a stream that ends before its final frame, fails the restore here, before
///    `restore` returns (see `extract(_:key:into:)`);
/// 4. `backup.json` and `manifest.json` are read and removed, and every path of the tree is
///    checked against the manifest.
/// On any failure the destination is removed and the error is a `CHOMError`.
///
/// The archive should sit where only the agent writes: it is hashed, then read again.
/// Blocking: call it from a thread pool (e.g. `NIOThreadPool`), not from the cooperative pool.
package struct BackupReader: Sendable {
    package struct Configuration: Sendable, Equatable {
        package var limits: SafeExtractor.Limits
        /// The largest `manifest.json` read back (its entries are held in memory).
        package var maxManifestBytes: Int

        package init(
            limits: SafeExtractor.Limits = SafeExtractor.Limits(maxTotalBytes: 1 << 40, maxEntries: 10_000_000),
            maxManifestBytes: Int = 1 << 30
        ) {
            self.limits = limits
            self.maxManifestBytes = maxManifestBytes
        }
    }

    package var configuration: Configuration

    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Restores `archive` into `destination` (which must not exist, or be an empty directory).
    package func restore(
        archive: URL, expected: BackupManifest.Archive, key: BackupEncryptionKey? = nil, into destination: URL
    ) throws(CHOMError) -> BackupRestore {
        let (restore, mismatches) = try unpack(archive: archive, expected: expected, key: key, into: destination)
        guard mismatches.isEmpty else {
            try? FileManager.default.removeItem(at: destination)
            let first = mismatches.prefix(3).map(\.description).joined(separator: "; ")
            throw CHOMError(
                .integrity, "the restored backup differs from its manifest in \(mismatches.count) paths: \(first)")
        }
        return restore
    }

    /// Steps 1–4, returning the differences from the manifest instead of throwing on them. The
    /// destination is removed on a thrown error only.
    func unpack(
        archive: URL, expected: BackupManifest.Archive, key: BackupEncryptionKey?, into destination: URL
    ) throws(CHOMError) -> (BackupRestore, [ManifestMismatch]) {
        let actual = try BackupManifest.Archive(digestingFileAt: archive)
        guard actual == expected else {
            throw CHOMError(
                .integrity,
                "the backup archive does not match its recorded checksum (SHA-256 \(actual.sha256), "
                    + "\(actual.byteCount) bytes; expected \(expected.sha256), \(expected.byteCount) bytes)")
        }
        try extract(archive, key: key, into: destination)
        do {
            let manifestJSON = try takeRecord(BackupLayout.manifestPath, from: destination)
            let manifest = try BackupManifest(json: manifestJSON)
            let layoutJSON = try takeRecord(BackupLayout.layoutPath, from: destination)
            let layout = try BackupLayout(json: layoutJSON, manifest: manifest)
            let mismatches = try manifest.verify(extractedTree: destination)
            let restore = BackupRestore(
                root: destination,
                sources: layout.sources.map { .init(prefix: $0, directory: destination.appendingPathComponent($0)) },
                database: layout.database.map { .init(kind: $0.kind, file: destination.appendingPathComponent($0.path)) },
                manifest: manifest)
            return (restore, mismatches)
        } catch {
            try? FileManager.default.removeItem(at: destination)
            throw error
        }
    }

    /// Step 2 and 3 as one stream. A plain archive is extracted from its file. An encrypted one is
    /// decrypted frame by frame straight into `SafeExtractor` (zstd, then tar), with no temporary
    /// file: each frame authenticates before any of its bytes reach the extractor, and the
    /// extractor pulls until the decryptor has authenticated the final frame and seen nothing
    /// after it. So a tampered frame mid-stream or a missing final frame fails the restore, and
    /// the destination is removed, before `restore` returns: what a caller switches into place
    /// afterwards came from a whole, authenticated archive. Frame 0 is decrypted before the
    /// destination is created, so a wrong key leaves nothing behind.
    private func extract(_ archive: URL, key: BackupEncryptionKey?, into destination: URL) throws(CHOMError) {
        let extractor = SafeExtractor(limits: configuration.limits)
        guard let keyID = try BackupDecryptingReader.keyID(ofArchiveAt: archive.path) else {
            let (fd, _) = try BackupFileIO.openRegularFile(archive.path)
            defer { close(fd) }
            guard try BackupFileIO.readUpTo(fd, count: 4, path: archive.path) == Self.zstdMagic else {
                throw CHOMError(.integrity, "the file is not a CHOM backup archive (neither encrypted nor zstd)")
            }
            do {
                _ = try extractor.extract(archive: archive, to: destination)
            } catch {
                throw BackupErrors.wrap(error, "the backup archive was refused")
            }
            return
        }
        guard let key else {
            throw CHOMError(
                .refused, "the backup is encrypted under key id \(BackupManifest.quote(keyID)) and no key was given")
        }
        let reader = try BackupDecryptingReader(fileAt: archive.path, key: key)
        var first: Data? = try reader.nextChunk()
        do {
            _ = try extractor.extract(to: destination) { () throws(CHOMError) -> Data in
                if let chunk = first {
                    first = nil
                    return chunk
                }
                return try reader.nextChunk()
            }
        } catch {
            throw BackupErrors.wrap(error, "the backup archive was refused")
        }
    }

    private static let zstdMagic = Data([0x28, 0xB5, 0x2F, 0xFD])

    /// Reads a record file at the root of the extracted tree, then deletes it.
    private func takeRecord(_ name: String, from root: URL) throws(CHOMError) -> Data {
        let path = root.appendingPathComponent(name).path
        guard let (fd, st) = try? BackupFileIO.openRegularFile(path) else {
            throw CHOMError(.integrity, "the backup archive has no \(name): it is not a CHOM backup")
        }
        defer { close(fd) }
        guard st.st_size <= configuration.maxManifestBytes else {
            throw CHOMError(.refused, "the backup's \(name) is larger than \(configuration.maxManifestBytes) bytes")
        }
        let data = try BackupFileIO.readUpTo(fd, count: Int(st.st_size), path: path)
        guard unlink(path) == 0 else { throw BackupFileIO.failure(errno, "unlink", path) }
        return data
    }
}
