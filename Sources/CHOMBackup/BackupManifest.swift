package import CHOMCore
package import Foundation

/// What a backup holds: every file, directory and symlink of the tree with a SHA-256 per file,
/// and the digest of the archive that carries them. Entries are validated (relative paths, no
/// `..`, each entry's parent a directory of the manifest) and kept sorted by their UTF-8 bytes,
/// so `canonicalJSON()` is the same bytes for the same tree on every agent.
package struct BackupManifest: Sendable, Equatable {
    package static let currentFormatVersion = 1

    /// The archive file's own digest: the bytes as stored on the target (after compression and
    /// encryption), checked before anything is read out of it.
    package struct Archive: Sendable, Equatable, Codable {
        package var sha256: String
        package var byteCount: UInt64

        package init(sha256: String, byteCount: UInt64) {
            self.sha256 = sha256
            self.byteCount = byteCount
        }

        enum CodingKeys: String, CodingKey {
            case sha256
            case byteCount = "bytes"
        }
    }

    package let formatVersion: Int
    package let entries: [Entry]
    /// Nil until the archive has been written; set it with `withArchive(_:)`.
    package let archive: Archive?

    package init(entries: [Entry], archive: Archive? = nil) throws(CHOMError) {
        try self.init(formatVersion: Self.currentFormatVersion, entries: entries, archive: archive)
    }

    private init(formatVersion: Int, entries: [Entry], archive: Archive?) throws(CHOMError) {
        guard formatVersion == Self.currentFormatVersion else {
            throw CHOMError(.invalidInput, "manifest format \(formatVersion) is not supported")
        }
        if let archive, !BackupHex.isSHA256(archive.sha256) {
            throw CHOMError(.invalidInput, "the manifest's archive digest is not a lowercase hex SHA-256")
        }
        let sorted = entries.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        var directories: Set<[UInt8]> = []
        var previous: [UInt8]?
        for entry in sorted {
            try entry.validate()
            let bytes = Array(entry.path.utf8)
            // Compared as bytes: NFC and NFD spellings of one name are two different files on disk.
            if bytes == previous { throw CHOMError(.invalidInput, "manifest path \(Self.quote(entry.path)) is listed twice") }
            previous = bytes
            // A parent sorts before its children ("a" < "a/b"), so it has been seen by now.
            if let slash = bytes.lastIndex(of: UInt8(ascii: "/")), !directories.contains(Array(bytes[..<slash])) {
                throw CHOMError(.refused, "manifest path \(Self.quote(entry.path)) is not under a directory entry")
            }
            if entry.kind == .directory { directories.insert(bytes) }
        }
        self.formatVersion = formatVersion
        self.entries = sorted
        self.archive = archive
    }

    /// The same manifest with the archive's digest recorded.
    package func withArchive(_ archive: Archive) throws(CHOMError) -> BackupManifest {
        try BackupManifest(formatVersion: formatVersion, entries: entries, archive: archive)
    }

    /// The entry at a path (compared as bytes), if any.
    package func entry(at path: String) -> Entry? {
        entries.first { $0.path.utf8.elementsEqual(path.utf8) }
    }

    /// Keys sorted, entries sorted by path, no whitespace, `/` unescaped: byte-identical for equal manifests.
    package func canonicalJSON() throws(CHOMError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(Wire(formatVersion: formatVersion, archive: archive, entries: entries))
        } catch {
            throw CHOMError(.internal, "the manifest could not be encoded", underlying: error)
        }
    }

    /// Parses and validates a manifest: an unknown format, a bad path (absolute, `..`), a
    /// repeated path or an entry outside a listed directory is refused.
    package init(json: Data) throws(CHOMError) {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: json)
        } catch {
            throw CHOMError(.invalidInput, "the manifest is not valid JSON of the expected shape", underlying: error)
        }
        try self.init(formatVersion: wire.formatVersion, entries: wire.entries, archive: wire.archive)
    }

    private struct Wire: Codable {
        var formatVersion: Int
        var archive: Archive?
        var entries: [Entry]

        enum CodingKeys: String, CodingKey {
            case formatVersion = "format_version"
            case archive, entries
        }
    }

    /// A path for messages: JSON-style quoting, so control characters cannot forge log lines.
    package static func quote(_ path: String) -> String {
        var out = "\""
        for scalar in path.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
