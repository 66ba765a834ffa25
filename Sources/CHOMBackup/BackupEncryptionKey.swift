package import CHOMCore
package import Crypto
package import Foundation

/// A tenant's backup key: 32 bytes for AES-256-GCM and the id under which the coordinator keeps
/// it. The id is written in clear into every archive it encrypts (so a restore can say which key
/// it needs); the key never appears in a description.
package struct BackupEncryptionKey: Sendable, CustomStringConvertible {
    package let id: String
    package let key: SymmetricKey

    /// Throws unless `bytes` is 32 bytes long and `id` is 1...255 UTF-8 bytes without control characters.
    package init(id: String, bytes: some ContiguousBytes) throws(CHOMError) {
        let count = bytes.withUnsafeBytes { $0.count }
        guard count == 32 else {
            throw CHOMError(.invalidInput, "a backup encryption key is 32 bytes, not \(count)")
        }
        try self.init(id: id, key: SymmetricKey(data: bytes))
    }

    package init(id: String, key: SymmetricKey) throws(CHOMError) {
        guard key.bitCount == 256 else {
            throw CHOMError(.invalidInput, "a backup encryption key is 256 bits, not \(key.bitCount)")
        }
        guard (1...255).contains(id.utf8.count),
            !id.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw CHOMError(.invalidInput, "a backup key id is 1 to 255 UTF-8 bytes without control characters")
        }
        self.id = id
        self.key = key
    }

    package var description: String { "BackupEncryptionKey(id: \(BackupManifest.quote(id)))" }
}
