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
/// 2. an encrypted archive is decrypted (and authenticated) into a temporary `.tar.zst` beside
///    the destination, frame by frame; without a key, or with another key, it is refused;
/// 3. `SafeExtractor` unpacks it, refusing traversal, absolute paths, symlink escapes, hard
///    links, devices and decompression bombs (`limits`);
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
        let compressed = try decryptIfNeeded(archive, key: key, beside: destination)
        defer { if compressed != archive { unlink(compressed.path) } }
        do {
            _ = try SafeExtractor(limits: configuration.limits).extract(archive: compressed, to: destination)
        } catch {
            throw BackupErrors.wrap(error, "the backup archive was refused")
        }
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

    /// The archive itself when it is plain tar.zst, else a decrypted temporary copy.
    private func decryptIfNeeded(_ archive: URL, key: BackupEncryptionKey?, beside destination: URL) throws(CHOMError)
        -> URL
    {
        guard let keyID = try BackupDecryptor.keyID(ofArchiveAt: archive.path) else {
            let (fd, _) = try BackupFileIO.openRegularFile(archive.path)
            defer { close(fd) }
            guard try BackupFileIO.readUpTo(fd, count: 4, path: archive.path) == Self.zstdMagic else {
                throw CHOMError(.integrity, "the file is not a CHOM backup archive (neither encrypted nor zstd)")
            }
            return archive
        }
        guard let key else {
            throw CHOMError(
                .refused, "the backup is encrypted under key id \(BackupManifest.quote(keyID)) and no key was given")
        }
        let parent = destination.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw CHOMError(.unavailable, "cannot create \(BackupManifest.quote(parent.path))", underlying: error)
        }
        let temporary = parent.appendingPathComponent(".\(destination.lastPathComponent).decrypted-\(UUID().uuidString.lowercased()).tar.zst")
        let output = try BackupOutputFile(creating: temporary)
        do {
            try BackupDecryptor.decrypt(fileAt: archive.path, key: key) { plaintext throws(CHOMError) in
                try output.write(plaintext)
            }
            _ = try output.complete()
        } catch {
            output.discard()
            throw error
        }
        return temporary
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
