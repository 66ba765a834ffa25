/// What `BackupWriter` produced: the stored archive's digest and size, the manifest (with that
/// digest recorded) to keep for restores and drills, and figures for metrics.
package struct BackupSummary: Sendable, Equatable {
    /// SHA-256 and length of the archive file as stored (after compression and encryption).
    package var archive: BackupManifest.Archive
    /// Every archived path with its SHA-256; `manifest.archive` equals `archive`. The archive holds
    /// the same manifest (without the archive digest) as its last entry.
    package var manifest: BackupManifest
    /// Regular files archived, the database dump included, the layout and manifest records not.
    package var fileCount: Int
    /// The sum of those files' sizes.
    package var uncompressedBytes: UInt64
    /// The key id the archive is encrypted under, nil when it is not encrypted.
    package var encryptionKeyID: String?
    /// Devices, FIFOs and sockets found in the sources and left out (paths as archived).
    package var skippedPaths: [String]
    package var duration: Duration

    package var archiveBytes: UInt64 { archive.byteCount }
    package var archiveSHA256: String { archive.sha256 }
}
