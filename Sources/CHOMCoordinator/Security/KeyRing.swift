package import Crypto
package import Foundation

/// The key-encryption keys for secrets at rest: named AES-256 keys, one of them active.
/// New secrets are sealed under the active key; any key in the ring opens what it sealed,
/// so a rotation adds a key, makes it active, reseals, and only then drops the old one.
///
/// Text form, in the configuration (`id:base64key,id2:base64key`) or a key file (one
/// `id:base64key` per line, blank lines and `#` comments ignored). Key ids are
/// `[A-Za-z0-9._-]{1,64}`; keys are 32 bytes in standard or url-safe base64.
/// Its descriptions and mirror list key ids only, so logging or dumping a ring shows no key.
package struct KeyRing: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    package static let keyByteCount = 32
    package static let maximumKeyIDLength = 64

    package let activeKeyID: String
    /// The key that seals.
    package let activeKey: SymmetricKey
    private let keys: [String: SymmetricKey]

    /// A ring of `keys`, in which `active` seals. Refuses an empty ring, a bad or repeated id,
    /// a key that is not 32 bytes, and an active id that is not in the ring.
    package init(keys: [(id: String, key: SymmetricKey)], active: String) throws(SecretBoxError) {
        guard !keys.isEmpty else { throw .emptyKeyRing }
        var ring: [String: SymmetricKey] = [:]
        for (index, entry) in keys.enumerated() {
            guard Self.isValidKeyID(entry.id) else { throw .invalidKeyID(entry: index + 1) }
            guard entry.key.bitCount == Self.keyByteCount * 8 else {
                throw .invalidKeyLength(keyID: entry.id, byteCount: entry.key.bitCount / 8)
            }
            guard ring.updateValue(entry.key, forKey: entry.id) == nil else { throw .duplicateKeyID(entry.id) }
        }
        guard let activeKey = ring[active] else { throw .unknownActiveKey(active) }
        self.keys = ring
        self.activeKey = activeKey
        self.activeKeyID = active
    }

    /// Parses the configuration form `id:base64key,id2:base64key` (spaces around entries ignored).
    package init(configuration: String, active: String) throws(SecretBoxError) {
        try self.init(entries: configuration.split(separator: ",", omittingEmptySubsequences: false), active: active)
    }

    /// Parses a key file's text: one `id:base64key` per line; blank lines and `#` comments skipped.
    /// Entry numbers in errors are line numbers.
    package init(keyFileContents: String, active: String) throws(SecretBoxError) {
        try self.init(entries: keyFileContents.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline), active: active)
    }

    /// Reads and parses a key file (see `init(keyFileContents:active:)`).
    package init(keyFile: URL, active: String) throws(SecretBoxError) {
        guard let data = try? Data(contentsOf: keyFile), let text = String(data: data, encoding: .utf8) else {
            throw .unreadableKeyFile(path: keyFile.path)
        }
        try self.init(keyFileContents: text, active: active)
    }

    private init(entries: [Substring], active: String) throws(SecretBoxError) {
        var keys: [(id: String, key: SymmetricKey)] = []
        for (index, raw) in entries.enumerated() {
            let entry = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if entry.isEmpty || entry.hasPrefix("#") { continue }
            guard let colon = entry.firstIndex(of: ":") else { throw .malformedKeyEntry(entry: index + 1) }
            let id = String(entry[..<colon])
            let encoded = entry[entry.index(after: colon)...]
            guard !encoded.isEmpty else { throw .malformedKeyEntry(entry: index + 1) }
            guard Self.isValidKeyID(id) else { throw .invalidKeyID(entry: index + 1) }
            guard let bytes = SecurityCoding.bytes(base64: encoded) else { throw .invalidKeyEncoding(keyID: id) }
            guard bytes.count == Self.keyByteCount else { throw .invalidKeyLength(keyID: id, byteCount: bytes.count) }
            keys.append((id, SymmetricKey(data: bytes)))
        }
        try self.init(keys: keys, active: active)
    }

    /// The key with this id, if the ring holds it.
    package func key(id: String) -> SymmetricKey? { keys[id] }

    /// Every key id, sorted.
    package var keyIDs: [String] { keys.keys.sorted() }

    package var description: String { "KeyRing(active: \(activeKeyID), keys: \(keyIDs.joined(separator: ", ")))" }
    package var debugDescription: String { description }
    package var customMirror: Mirror { Mirror(self, children: ["activeKeyID": activeKeyID, "keyIDs": keyIDs]) }

    /// `[A-Za-z0-9._-]{1,64}`: no `:` or `,`, which the text forms use as separators.
    package static func isValidKeyID(_ id: String) -> Bool {
        (1...maximumKeyIDLength).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    true
                default: false
                }
            }
    }

    /// A fresh random key as a ring entry `id:base64key`, for an operator to add to the
    /// configuration or key file before `rotate-secrets-key`. The returned text is key material.
    package static func generateEntry(keyID: String) throws(SecretBoxError) -> String {
        guard isValidKeyID(keyID) else { throw .invalidKeyID(entry: 1) }
        let key = SymmetricKey(size: .bits256)
        return keyID + ":" + key.withUnsafeBytes { Data($0).base64EncodedString() }
    }
}
