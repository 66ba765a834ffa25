import CHOMCore
import Crypto
import Foundation

/// Encrypts a stream into `BackupEncryptionFormat`: feed plaintext in pieces of any size, receive
/// the header and then whole sealed frames, and `finish` to seal the final frame. Holds at most
/// one frame of plaintext plus the piece being fed.
final class BackupEncryptor {
    private let header: Data
    private let noncePrefix: Data
    private let key: SymmetricKey
    private var pending = Data()
    private var counter: UInt32 = 0
    private var wroteHeader = false
    private var finished = false

    init(key: BackupEncryptionKey) {
        let header = BackupEncryptionFormat.Header.random(keyID: key.id)
        self.header = header.encoded
        self.noncePrefix = header.noncePrefix
        self.key = BackupEncryptionFormat.archiveKey(key, salt: header.salt)
    }

    func encrypt(_ plaintext: Data, into sink: (Data) throws -> Void) throws {
        guard !finished else { throw CHOMError(.internal, "the backup encryptor is already finished") }
        try writeHeaderOnce(sink)
        pending.append(plaintext)
        // A full frame is held back until more bytes arrive: only then is it known not to be the last.
        let size = BackupEncryptionFormat.frameSize
        guard pending.count > size else { return }
        var offset = pending.startIndex
        while pending.endIndex - offset > size {
            try seal(pending[offset..<(offset + size)], final: false, sink)
            offset += size
        }
        pending = Data(pending[offset...])
    }

    /// Seals the remaining plaintext (possibly none) as the final frame.
    func finish(into sink: (Data) throws -> Void) throws {
        guard !finished else { return }
        try writeHeaderOnce(sink)
        try seal(pending, final: true, sink)
        pending = Data()
        finished = true
    }

    private func writeHeaderOnce(_ sink: (Data) throws -> Void) throws {
        guard !wroteHeader else { return }
        wroteHeader = true
        try sink(header)
    }

    private func seal(_ plaintext: Data, final: Bool, _ sink: (Data) throws -> Void) throws {
        let nonce = try BackupEncryptionFormat.nonce(prefix: noncePrefix, counter: counter)
        guard counter < .max else { throw CHOMError(.refused, "the backup exceeds 2^32 encrypted frames") }
        counter += 1
        let box = try AES.GCM.seal(
            plaintext, using: key, nonce: nonce,
            authenticating: BackupEncryptionFormat.associatedData(header: header, final: final))
        var frame = BackupEncryptionFormat.encodeLength(box.ciphertext.count, final: final)
        frame.reserveCapacity(BackupEncryptionFormat.lengthSize + box.ciphertext.count + BackupEncryptionFormat.tagSize)
        frame.append(box.ciphertext)
        frame.append(box.tag)
        try sink(frame)
    }
}
