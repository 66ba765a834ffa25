import CHOMCore
import Crypto
import Foundation

/// The encrypted backup format (version 1): AES-256-GCM in independently sealed frames, so that
/// memory stays bounded and truncation, reordering, tampering and a wrong key are all detected.
///
/// All integers are big-endian.
///
///     header   magic         8 bytes  "CHOMBACK"
///              version       1 byte   1
///              key id length 1 byte   1...255
///              key id        UTF-8    the tenant key's id (in clear)
///              salt          32 bytes random per archive
///              nonce prefix  8 bytes  random per archive
///     frame i  flags+length  4 bytes  bit 31: final frame; bits 0-30: ciphertext length L,
///     (i = 0…)                        0...1 MiB (1 048 576)
///              ciphertext    L bytes
///              tag           16 bytes
///
/// - Archive key: `HKDF-SHA256(ikm: tenant key, salt: salt, info: "chom-backup-v1")`, 32 bytes,
///   so a nonce never repeats under one key even if two archives drew the same nonce prefix.
/// - Nonce of frame i: `nonce prefix ‖ UInt32(i)` (12 bytes); at most 2^32 frames.
/// - Associated data of frame i: `header bytes ‖ final`, where `final` is one byte, 1 on the last
///   frame and 0 on every other (the same flag as bit 31 of its length field, which a reader
///   trusts only once the frame authenticates). The header (version, key id, salt, prefix) is
///   thus authenticated by every frame.
/// - Every frame but the last holds exactly 1 MiB of plaintext; the last holds the rest (0...1 MiB).
///   There is always at least one frame, and nothing may follow the final one.
///
/// A stream that ends before a final frame (truncation), frames out of order or repeated, a
/// changed byte anywhere, or another key all fail authentication: the reader reports
/// "wrong key or corrupted backup" and emits no unauthenticated plaintext.
enum BackupEncryptionFormat {
    static let magic = Data("CHOMBACK".utf8)
    static let version: UInt8 = 1
    static let saltSize = 32
    static let noncePrefixSize = 8
    static let tagSize = 16
    static let lengthSize = 4
    /// Plaintext (and so ciphertext) bytes per frame.
    static let frameSize = 1024 * 1024
    static let keyInfo = Data("chom-backup-v1".utf8)
    /// magic, version, key id length, the longest key id, salt, nonce prefix.
    static let maxHeaderSize = 8 + 1 + 1 + 255 + saltSize + noncePrefixSize

    struct Header: Equatable {
        var keyID: String
        var salt: Data
        var noncePrefix: Data

        static func random(keyID: String) -> Header {
            Header(keyID: keyID, salt: randomBytes(saltSize), noncePrefix: randomBytes(noncePrefixSize))
        }

        var encoded: Data {
            var data = BackupEncryptionFormat.magic
            data.append(BackupEncryptionFormat.version)
            data.append(UInt8(keyID.utf8.count))
            data.append(contentsOf: keyID.utf8)
            data.append(salt)
            data.append(noncePrefix)
            return data
        }

        /// Parses the header at the start of `data`; nil when `data` is too short to tell.
        /// Throws when it is not a version-1 header.
        static func parse(_ data: Data) throws(CHOMError) -> (header: Header, size: Int)? {
            let bytes = [UInt8](data.prefix(maxHeaderSize))
            guard bytes.count >= magic.count + 2 else { return nil }
            guard bytes.starts(with: magic) else {
                throw CHOMError(.integrity, "the file is not an encrypted CHOM backup")
            }
            guard bytes[8] == version else {
                throw CHOMError(.integrity, "encrypted backup format version \(bytes[8]) is not supported")
            }
            let idLength = Int(bytes[9])
            let size = 10 + idLength + saltSize + noncePrefixSize
            guard idLength > 0 else { throw CHOMError(.integrity, "wrong key or corrupted backup: empty key id") }
            guard bytes.count >= size else { return nil }
            guard let keyID = String(validating: bytes[10..<(10 + idLength)], as: UTF8.self) else {
                throw CHOMError(.integrity, "wrong key or corrupted backup: the key id is not UTF-8")
            }
            let salt = Data(bytes[(10 + idLength)..<(10 + idLength + saltSize)])
            let prefix = Data(bytes[(size - noncePrefixSize)..<size])
            return (Header(keyID: keyID, salt: salt, noncePrefix: prefix), size)
        }
    }

    static func archiveKey(_ key: BackupEncryptionKey, salt: Data) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key.key, salt: salt, info: keyInfo, outputByteCount: 32)
    }

    static func nonce(prefix: Data, counter: UInt32) throws(CHOMError) -> AES.GCM.Nonce {
        var bytes = prefix
        withUnsafeBytes(of: counter.bigEndian) { bytes.append(contentsOf: $0) }
        do {
            return try AES.GCM.Nonce(data: bytes)
        } catch {
            throw CHOMError(.internal, "cannot build an AES-GCM nonce", underlying: error)
        }
    }

    static func associatedData(header: Data, final: Bool) -> Data {
        var data = header
        data.append(final ? 1 : 0)
        return data
    }

    private static let finalBit: UInt32 = 1 << 31

    static func encodeLength(_ length: Int, final: Bool) -> Data {
        let field = UInt32(length) | (final ? finalBit : 0)
        return withUnsafeBytes(of: field.bigEndian) { Data($0) }
    }

    static func decodeLength(_ bytes: some Sequence<UInt8>) -> (length: Int, final: Bool) {
        let field = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return (Int(field & ~finalBit), field & finalBit != 0)
    }

    /// The error for every authentication failure: the causes cannot be told apart, by design.
    static func authenticationFailure(_ detail: String, underlying: (any Error & Sendable)? = nil) -> CHOMError {
        CHOMError(.integrity, "wrong key or corrupted backup: \(detail)", underlying: underlying)
    }

    private static func randomBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}
