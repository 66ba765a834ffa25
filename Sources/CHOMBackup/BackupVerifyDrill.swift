package import CHOMCore
package import Foundation

/// A verify drill: restores a backup into a scratch directory, checks every path against the
/// manifest stored in it, and deletes the scratch directory whatever happened. A drill never
/// throws: a backup that cannot be restored is a failed drill.
package struct BackupVerifyDrill: Sendable {
    package struct Report: Sendable {
        /// Paths that differ from the manifest (empty when the restore itself failed).
        package var mismatches: [ManifestMismatch]
        /// Why the backup could not be restored (checksum, key, refused entry, …), if it could not.
        package var failure: CHOMError?
        /// Entries of the manifest that were checked (0 when the restore failed).
        package var entriesChecked: Int
        package var duration: Duration

        /// The backup restored and every path matched.
        package var ok: Bool { failure == nil && mismatches.isEmpty }
    }

    package var reader: BackupReader

    package init(reader: BackupReader = BackupReader()) {
        self.reader = reader
    }

    /// Runs the drill in a new directory under `scratchParent`, removed before returning.
    /// Blocking: call it from a thread pool (e.g. `NIOThreadPool`).
    package func run(
        archive: URL, expected: BackupManifest.Archive, key: BackupEncryptionKey? = nil, scratchParent: URL,
        clock: some Clock<Duration> = ContinuousClock()
    ) -> Report {
        let start = clock.now
        let scratch = scratchParent.appendingPathComponent("chom-verify-drill-" + UUID().uuidString.lowercased())
        defer { try? FileManager.default.removeItem(at: scratch) }
        do {
            let (restore, mismatches) = try reader.unpack(archive: archive, expected: expected, key: key, into: scratch)
            return Report(
                mismatches: mismatches, failure: nil, entriesChecked: restore.manifest.entries.count,
                duration: start.duration(to: clock.now))
        } catch {
            return Report(mismatches: [], failure: error, entriesChecked: 0, duration: start.duration(to: clock.now))
        }
    }
}
