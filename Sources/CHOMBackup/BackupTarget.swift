package import CHOMCore
package import Foundation

/// Where backup archives are stored: a directory on the VPS (`LocalDirectoryTarget`) or an S3
/// bucket. Keys are relative `/`-separated names (`BackupTargetKey.validate`); errors are
/// `CHOMError` (`.notFound` for a missing key on `get`).
package protocol BackupTarget: Sendable {
    /// Stores the file's bytes under `key`, replacing any previous object; readers never see a
    /// partial object.
    func put(file: URL, key: String) async throws
    /// Writes the object's bytes to the new file `to`.
    func get(key: String, to: URL) async throws
    /// Removes the object; removing a missing key succeeds (as S3 does).
    func delete(key: String) async throws
    /// Every object whose key starts with `prefix` (plain string prefix, as S3), sorted by key.
    func list(prefix: String) async throws -> [BackupObject]
}

/// One stored archive as a target lists it.
package struct BackupObject: Sendable, Equatable {
    package var key: String
    package var size: UInt64

    package init(key: String, size: UInt64) {
        self.key = key
        self.size = size
    }
}

/// The key rules every target enforces, so a key means the same object everywhere and can never
/// name a path outside a local target's directory.
package enum BackupTargetKey {
    /// At most 1024 UTF-8 bytes, relative, no control characters or backslashes, and no empty,
    /// `.`, `..` or temporary-file (`.chom-partial-…`) component.
    package static func validate(_ key: String) throws(CHOMError) {
        try validate(key, allowTrailingSlash: false, what: "key")
    }

    /// Like a key, but may be empty or end with `/`.
    package static func validate(prefix: String) throws(CHOMError) {
        guard !prefix.isEmpty else { return }
        try validate(prefix, allowTrailingSlash: true, what: "prefix")
    }

    /// Names of files being written by `LocalDirectoryTarget` start with this.
    package static let partialFilePrefix = ".chom-partial-"

    private static func validate(_ key: String, allowTrailingSlash: Bool, what: String) throws(CHOMError) {
        let quoted = BackupManifest.quote(key)
        guard !key.isEmpty, key.utf8.count <= 1024 else {
            throw CHOMError(.invalidInput, "backup \(what) \(quoted) is empty or longer than 1024 bytes")
        }
        guard !key.hasPrefix("/") else { throw CHOMError(.invalidInput, "backup \(what) \(quoted) is absolute") }
        guard !key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\\" }) else {
            throw CHOMError(.invalidInput, "backup \(what) \(quoted) holds a control character or backslash")
        }
        var components = key.split(separator: "/", omittingEmptySubsequences: false)
        if allowTrailingSlash, key.hasSuffix("/") { components.removeLast() }
        for component in components {
            guard !component.isEmpty, component != ".", component != ".." else {
                throw CHOMError(.invalidInput, "backup \(what) \(quoted) has an empty, '.' or '..' component")
            }
            guard !component.hasPrefix(partialFilePrefix) else {
                throw CHOMError(.invalidInput, "backup \(what) \(quoted) uses a reserved name")
            }
        }
    }
}
