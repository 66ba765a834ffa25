#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
package import CHOMCore
import Crypto
package import Foundation

/// Reads a file in `BackupEncryptionFormat` one authenticated frame at a time (pull-based), the
/// one implementation of the format's reading side:
/// - the header is parsed and its key id compared with the key's when the reader is made;
/// - each frame is authenticated (AES-GCM under the archive key, nonce `prefix ‖ i`, associated
///   data `header ‖ final`) before any of its bytes are returned, so nothing unauthenticated
///   comes out;
/// - frames must come in order (a moved, repeated or missing frame does not authenticate), the
///   stream must end with its final frame, and nothing may follow it: `nextFrame()` returns nil
///   only after that final frame was returned and nothing follows it.
/// A stream cut before its final frame is only detected at its end, so a consumer must treat
/// what it was handed as void unless it read on until `nextFrame()` returned nil.
///
/// Memory: about three frames (1 MiB each): the ciphertext buffer, reused for every frame and
/// filled straight from the file; the sealed box's copy of it while the frame is opened (the one
/// copy `AES.GCM` needs); and the plaintext handed out.
package final class BackupDecryptingReader {
    private let fd: Int32
    private let path: String
    private let noncePrefix: Data
    private let archiveKey: SymmetricKey
    /// `header ‖ 0` and `header ‖ 1`: the associated data of a non-final and of the final frame.
    private let associatedData: (next: Data, final: Data)
    /// Bytes read past the header with it, consumed before the descriptor is read again.
    private var carry: [UInt8]
    /// Ciphertext and tag of the current frame (its length field too), reused for every frame.
    private let buffer: UnsafeMutableRawBufferPointer
    private var counter: UInt32 = 0
    private var ended = false
    private var failure: CHOMError?

    /// Opens the archive (never through a final symlink, a regular file only) and checks its header
    /// against `key`'s id. Throws "wrong key or corrupted backup" when the key id differs.
    package init(fileAt path: String, key: BackupEncryptionKey) throws(CHOMError) {
        let (fd, _) = try BackupFileIO.openRegularFile(path)
        let parsed: (header: BackupEncryptionFormat.Header, bytes: Data, carry: [UInt8])
        do {
            parsed = try Self.header(fd, path: path)
        } catch {
            close(fd)
            throw error
        }
        guard parsed.header.keyID.utf8.elementsEqual(key.id.utf8) else {
            close(fd)
            throw BackupEncryptionFormat.authenticationFailure(
                "the backup was encrypted under key id \(BackupManifest.quote(parsed.header.keyID)), "
                    + "the key given has id \(BackupManifest.quote(key.id))")
        }
        self.fd = fd
        self.path = path
        self.noncePrefix = parsed.header.noncePrefix
        self.archiveKey = BackupEncryptionFormat.archiveKey(key, salt: parsed.header.salt)
        self.associatedData = (
            BackupEncryptionFormat.associatedData(header: parsed.bytes, final: false),
            BackupEncryptionFormat.associatedData(header: parsed.bytes, final: true)
        )
        self.carry = parsed.carry
        self.buffer = .allocate(
            byteCount: BackupEncryptionFormat.frameSize + BackupEncryptionFormat.tagSize, alignment: 16)
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

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

    /// The next frame's plaintext, authenticated; nil once the final frame has been returned.
    /// The final frame is returned only when nothing follows it. After an error, every call
    /// throws it again.
    package func nextFrame() throws(CHOMError) -> Data? {
        if let failure { throw failure }
        do {
            return try readFrame()
        } catch {
            failure = error
            throw error
        }
    }

    private func readFrame() throws(CHOMError) -> Data? {
        guard !ended else { return nil }
        let lengthSize = BackupEncryptionFormat.lengthSize
        switch try fill(lengthSize) {
        case 0: throw BackupEncryptionFormat.authenticationFailure("the stream ends before its final frame")
        case lengthSize: break
        default: throw BackupEncryptionFormat.authenticationFailure("truncated frame")
        }
        let (length, final) = BackupEncryptionFormat.decodeLength(UnsafeRawBufferPointer(rebasing: buffer[..<lengthSize]))
        guard length <= BackupEncryptionFormat.frameSize else {
            throw BackupEncryptionFormat.authenticationFailure("a frame declares \(length) bytes")
        }
        let bodySize = length + BackupEncryptionFormat.tagSize
        guard try fill(bodySize) == bodySize else { throw BackupEncryptionFormat.authenticationFailure("truncated frame") }
        let nonce = try BackupEncryptionFormat.nonce(prefix: noncePrefix, counter: counter)
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(
                nonce: nonce, ciphertext: UnsafeRawBufferPointer(rebasing: buffer[..<length]),
                tag: UnsafeRawBufferPointer(rebasing: buffer[length..<bodySize]))
            plaintext = try AES.GCM.open(
                box, using: archiveKey, authenticating: final ? associatedData.final : associatedData.next)
        } catch {
            throw BackupEncryptionFormat.authenticationFailure("frame \(counter) does not authenticate")
        }
        if final {
            guard try fill(1) == 0 else { throw BackupEncryptionFormat.authenticationFailure("bytes follow the final frame") }
            ended = true
        } else {
            // Frame 2^32 - 1 could only be followed by a frame whose nonce would repeat.
            guard counter < .max else { throw BackupEncryptionFormat.authenticationFailure("too many frames") }
            counter += 1
        }
        return plaintext
    }

    /// The next non-empty plaintext, or an empty `Data` only once the final frame authenticated
    /// and nothing follows it: a chunk source for `SafeExtractor.extract(to:nextChunk:)`. An empty
    /// frame before the final one is skipped, so it cannot end the stream early.
    package func nextChunk() throws(CHOMError) -> Data {
        while let plaintext = try nextFrame() {
            if !plaintext.isEmpty { return plaintext }
        }
        return Data()
    }

    /// Reads the header; returns it, its bytes and what was read past it.
    private static func header(_ fd: Int32, path: String) throws(CHOMError) -> (
        header: BackupEncryptionFormat.Header, bytes: Data, carry: [UInt8]
    ) {
        let start = try BackupFileIO.readUpTo(fd, count: BackupEncryptionFormat.maxHeaderSize, path: path)
        guard let (header, size) = try BackupEncryptionFormat.Header.parse(start) else {
            throw BackupEncryptionFormat.authenticationFailure("the header is truncated")
        }
        return (header, Data(start.prefix(size)), [UInt8](start.dropFirst(size)))
    }

    /// Fills `buffer[0..<count]` with the stream's next bytes; returns how many were read (fewer
    /// than `count` only at the end of the file).
    private func fill(_ count: Int) throws(CHOMError) -> Int {
        var filled = min(count, carry.count)
        if filled > 0 {
            buffer.copyBytes(from: carry[..<filled])
            carry.removeFirst(filled)
        }
        while filled < count {
            let got = try BackupFileIO.readSome(
                fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<count]), path: path)
            if got == 0 { break }
            filled += got
        }
        return filled
    }
}
