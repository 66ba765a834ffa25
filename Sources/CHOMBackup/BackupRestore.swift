package import Foundation

/// Where a restored backup landed. Everything is under `root`; the layout and manifest records
/// have been removed from it, and every file matched the manifest.
package struct BackupRestore: Sendable, Equatable {
    package struct Source: Sendable, Equatable {
        /// As given to `BackupWriter`, e.g. "files/current".
        package var prefix: String
        package var directory: URL

        package init(prefix: String, directory: URL) {
            self.prefix = prefix
            self.directory = directory
        }
    }

    package struct Database: Sendable, Equatable {
        package var kind: BackupDatabaseDump.Kind
        package var file: URL

        package init(kind: BackupDatabaseDump.Kind, file: URL) {
            self.kind = kind
            self.file = file
        }
    }

    package var root: URL
    package var sources: [Source]
    package var database: Database?
    /// The manifest stored in the archive, every entry checked against `root`.
    package var manifest: BackupManifest

    /// The restored directory of a source prefix, if the backup has it.
    package func directory(for prefix: String) -> URL? {
        sources.first { $0.prefix == prefix }?.directory
    }
}
