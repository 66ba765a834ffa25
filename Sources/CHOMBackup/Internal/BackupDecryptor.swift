#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CHOMCore
import Crypto
import Foundation

/// Decrypts a file in `BackupEncryptionFormat`, frame by frame: each frame is authenticated before
/// its plaintext is handed to `sink`, so nothing unauthenticated comes out, and memory stays at
/// about one frame. The caller must still treat output as void unless the whole call succeeds
/// (a truncated stream is only detected at its end).
enum BackupDecryptor {
    /// The key id recorded in an encrypted archive's header, or nil when the file is not encrypted.
    static func keyID(ofArchiveAt path: String) throws(CHOMError) -> String? {
        let (fd, _) = try BackupFileIO.openRegularFile(path)
        defer { close(fd) }
        let prefix = try BackupFileIO.readUpTo(fd, count: BackupEncryptionFormat.maxHeaderSize, path: path)
        guard prefix.starts(with: BackupEncryptionFormat.magic) else { return nil }
        guard let (header, _) = try BackupEncryptionFormat.Header.parse(prefix) else {
            throw BackupEncryptionFormat.authenticationFailure("the header is truncated")
        }
        return header.keyID
    }

    static func decrypt(
        fileAt path: String, key: BackupEncryptionKey, into sink: (Data) throws(CHOMError) -> Void
    ) throws(CHOMError) {
        let (fd, _) = try BackupFileIO.openRegularFile(path)
        defer { close(fd) }
        let start = try BackupFileIO.readUpTo(fd, count: BackupEncryptionFormat.maxHeaderSize, path: path)
        guard let (header, headerSize) = try BackupEncryptionFormat.Header.parse(start) else {
            throw BackupEncryptionFormat.authenticationFailure("the header is truncated")
        }
        guard header.keyID.utf8.elementsEqual(key.id.utf8) else {
            throw BackupEncryptionFormat.authenticationFailure(
                "the backup was encrypted under key id \(BackupManifest.quote(header.keyID)), "
                    + "the key given has id \(BackupManifest.quote(key.id))")
        }
        let headerBytes = Data(start.prefix(headerSize))
        let archiveKey = BackupEncryptionFormat.archiveKey(key, salt: header.salt)
        // Bytes read past the header; frames are then read exactly.
        var carry = Data(start.dropFirst(headerSize))
        func readExactly(_ count: Int) throws(CHOMError) -> Data? {
            var data = Data(carry.prefix(count))
            carry = Data(carry.dropFirst(data.count))
            if data.count < count { data.append(try BackupFileIO.readUpTo(fd, count: count - data.count, path: path)) }
            if data.isEmpty { return nil }
            guard data.count == count else { throw BackupEncryptionFormat.authenticationFailure("truncated frame") }
            return data
        }

        var counter: UInt32 = 0
        while true {
            guard let lengthBytes = try readExactly(BackupEncryptionFormat.lengthSize) else {
                throw BackupEncryptionFormat.authenticationFailure("the stream ends before its final frame")
            }
            let (length, final) = BackupEncryptionFormat.decodeLength(lengthBytes)
            guard length <= BackupEncryptionFormat.frameSize else {
                throw BackupEncryptionFormat.authenticationFailure("a frame declares \(length) bytes")
            }
            guard let body = try readExactly(length + BackupEncryptionFormat.tagSize) else {
                throw BackupEncryptionFormat.authenticationFailure("truncated frame")
            }
            let nonce = try BackupEncryptionFormat.nonce(prefix: header.noncePrefix, counter: counter)
            let plaintext: Data
            do {
                let box = try AES.GCM.SealedBox(
                    nonce: nonce, ciphertext: body.prefix(length), tag: body.suffix(BackupEncryptionFormat.tagSize))
                plaintext = try AES.GCM.open(
                    box, using: archiveKey,
                    authenticating: BackupEncryptionFormat.associatedData(header: headerBytes, final: final))
            } catch {
                throw BackupEncryptionFormat.authenticationFailure("frame \(counter) does not authenticate")
            }
            try sink(plaintext)
            if final {
                guard try readExactly(1) == nil else {
                    throw BackupEncryptionFormat.authenticationFailure("bytes follow the final frame")
                }
                return
            }
            guard counter < .max else { throw BackupEncryptionFormat.authenticationFailure("too many frames") }
            counter += 1
        }
    }
}
