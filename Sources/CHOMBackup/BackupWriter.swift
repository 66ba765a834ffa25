import CHOMArchive
package import CHOMCore
package import Foundation

/// Writes one backup archive: the sources' trees and an optional database dump as a single tar
/// stream, zstd-compressed as it goes, optionally encrypted (`BackupEncryptionFormat`), into a
/// new file. Memory stays bounded whatever the trees' size: files are read in 1 MiB chunks that
/// feed the archive and their SHA-256 at once (each file is read once), and every stage passes
/// pieces on as it produces them. See `BackupLayout` for what the archive holds.
///
/// Blocking: call it from a thread pool (e.g. `NIOThreadPool`), not from the cooperative pool.
package struct BackupWriter: Sendable {
    package struct Configuration: Sendable, Equatable {
        /// zstd level (clamped to what the library supports).
        package var compressionLevel: Int32

        package init(compressionLevel: Int32 = 3) {
            self.compressionLevel = compressionLevel
        }
    }

    package var configuration: Configuration

    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Writes the archive to `output`, which must not exist yet (a partial file is removed on
    /// failure). With `encryptionKey`, the stored bytes are AES-256-GCM frames under that key.
    package func write(
        sources: [BackupSource], database: BackupDatabaseDump? = nil, to output: URL,
        encryptionKey: BackupEncryptionKey? = nil, clock: some Clock<Duration> = ContinuousClock()
    ) throws(CHOMError) -> BackupSummary {
        let start = clock.now
        let layout = try BackupLayout(sources: sources.map(\.prefix), database: database?.kind)
        let file = try BackupOutputFile(creating: output)
        do {
            let encryptor = encryptionKey.map(BackupEncryptor.init(key:))
            let store: (Data) throws -> Void = { data in
                if let encryptor {
                    try encryptor.encrypt(data) { frame in try file.write(frame) }
                } else {
                    try file.write(data)
                }
            }
            let compressor = try ZstdCompressor(level: configuration.compressionLevel)
            let tar = TarWriter { chunk in try compressor.compress(chunk, into: store) }
            let builder = BackupArchiveBuilder(tar: tar, syntheticTime: Int(Date().timeIntervalSince1970))
            for source in sources { try builder.addTree(source) }
            if let database { try builder.addFile(at: database.file, as: BackupLayout.databaseDumpPath) }
            let manifest = try BackupManifest(entries: builder.entries)
            try builder.addRecord(try layout.canonicalJSON(), as: BackupLayout.layoutPath)
            try builder.addRecord(try manifest.canonicalJSON(), as: BackupLayout.manifestPath)
            try tar.finish()
            try compressor.finish(into: store)
            try encryptor?.finish { frame in try file.write(frame) }
            let archive = try file.complete()
            return BackupSummary(
                archive: archive, manifest: try manifest.withArchive(archive), fileCount: builder.fileCount,
                uncompressedBytes: builder.fileBytes, encryptionKeyID: encryptionKey?.id,
                skippedPaths: builder.skippedPaths, duration: start.duration(to: clock.now))
        } catch {
            file.discard()
            throw BackupErrors.wrap(error, "writing the backup \(BackupManifest.quote(output.path))")
        }
    }
}
