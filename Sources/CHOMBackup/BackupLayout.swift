package import CHOMCore
import Foundation

/// The archive's table of contents, stored in it as `backup.json` next to `manifest.json`.
///
/// Layout of the tar stream (before compression and encryption), in this order:
///
///     files/…, files/current/…        each source under its prefix (directories, files, symlinks)
///     database/dump.sql               the database dump, when there is one
///     backup.json                     this layout: prefixes, dump kind (canonical JSON)
///     manifest.json                   the `BackupManifest` of everything above (canonical JSON,
///                                     without the archive digest, which cannot be known yet)
///
/// The manifest comes last because it is computed while the files stream past. A restore reads
/// both records out of the extracted tree, removes them, and checks the rest against the
/// manifest. The archive's own SHA-256 is returned by `BackupWriter` for the caller to record.
package struct BackupLayout: Sendable, Equatable, Codable {
    package static let currentFormatVersion = 1
    package static let layoutPath = "backup.json"
    package static let manifestPath = "manifest.json"
    package static let databaseDirectory = "database"
    package static let databaseDumpPath = "database/dump.sql"
    /// First path components that no source prefix may take.
    package static let reservedNames: Set<String> = [layoutPath, manifestPath, databaseDirectory]

    package struct Database: Sendable, Equatable, Codable {
        package var path: String
        package var kind: BackupDatabaseDump.Kind
    }

    package var formatVersion: Int
    package var sources: [String]
    package var database: Database?

    package init(sources: [String], database: BackupDatabaseDump.Kind?) throws(CHOMError) {
        try Self.validate(prefixes: sources)
        self.formatVersion = Self.currentFormatVersion
        self.sources = sources
        self.database = database.map { Database(path: Self.databaseDumpPath, kind: $0) }
    }

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case sources, database
    }

    /// Each prefix is a valid relative path, does not start with a reserved name, and neither
    /// equals nor contains another.
    package static func validate(prefixes: [String]) throws(CHOMError) {
        for prefix in prefixes {
            try BackupManifest.Entry.validateRelativePath(prefix)
            let first = String(prefix.split(separator: "/", maxSplits: 1)[0])
            guard !reservedNames.contains(first) else {
                throw CHOMError(.invalidInput, "backup prefix \(BackupManifest.quote(prefix)) uses a reserved name")
            }
        }
        for (index, prefix) in prefixes.enumerated() {
            for other in prefixes[(index + 1)...]
            where prefix == other || prefix.hasPrefix(other + "/") || other.hasPrefix(prefix + "/") {
                throw CHOMError(
                    .invalidInput,
                    "backup prefixes \(BackupManifest.quote(prefix)) and \(BackupManifest.quote(other)) overlap")
            }
        }
    }

    func canonicalJSON() throws(CHOMError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(self)
        } catch {
            throw CHOMError(.internal, "the backup layout could not be encoded", underlying: error)
        }
    }

    /// Parses a stored layout and checks it against the manifest that came with it.
    init(json: Data, manifest: BackupManifest) throws(CHOMError) {
        do {
            self = try JSONDecoder().decode(BackupLayout.self, from: json)
        } catch {
            throw CHOMError(.integrity, "the backup's backup.json is not valid", underlying: error)
        }
        guard formatVersion == Self.currentFormatVersion else {
            throw CHOMError(.integrity, "backup layout format \(formatVersion) is not supported")
        }
        try Self.validate(prefixes: sources)
        for prefix in sources where manifest.entry(at: prefix)?.kind != .directory {
            throw CHOMError(.integrity, "the backup's source \(BackupManifest.quote(prefix)) is not in its manifest")
        }
        if let database {
            guard database.path == Self.databaseDumpPath, manifest.entry(at: database.path)?.kind == .file else {
                throw CHOMError(.integrity, "the backup's database dump is not in its manifest")
            }
        }
    }
}
