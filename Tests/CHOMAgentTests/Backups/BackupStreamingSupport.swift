#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CHOMBackup
import Crypto
import Foundation

/// Builds encrypted archives frame by frame, independently of `BackupWriter`, so a test can
/// choose where frames end (an empty final frame, say). Same format: `BackupEncryptionFormat`.
struct TestFrameSealer {
    let key: BackupEncryptionKey
    let salt = Data((0..<32).map { UInt8($0) })
    let noncePrefix = Data([9, 8, 7, 6, 5, 4, 3, 2])

    var header: Data {
        var data = Data("CHOMBACK".utf8)
        data.append(1)
        data.append(UInt8(key.id.utf8.count))
        data.append(contentsOf: key.id.utf8)
        return data + salt + noncePrefix
    }

    /// The header, then one frame per piece of `frames`; the last piece is sealed as the final frame.
    func seal(_ frames: [Data]) throws -> Data {
        let header = header
        let archiveKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: key.key, salt: salt, info: Data("chom-backup-v1".utf8), outputByteCount: 32)
        var out = header
        for (index, plaintext) in frames.enumerated() {
            let final = index == frames.count - 1
            var nonce = noncePrefix
            withUnsafeBytes(of: UInt32(index).bigEndian) { nonce.append(contentsOf: $0) }
            let box = try AES.GCM.seal(
                plaintext, using: archiveKey, nonce: try AES.GCM.Nonce(data: nonce),
                authenticating: header + Data([final ? 1 : 0]))
            let field = UInt32(box.ciphertext.count) | (final ? 1 << 31 : 0)
            withUnsafeBytes(of: field.bigEndian) { out.append(contentsOf: $0) }
            out.append(box.ciphertext)
            out.append(box.tag)
        }
        return out
    }

    /// `plaintext` in 1 MiB frames followed by an empty final frame (the writer never makes one,
    /// but the format allows it): dropping that last frame leaves a complete tar.zst.
    func sealWithEmptyFinalFrame(_ plaintext: Data) throws -> (archive: Data, finalFrameSize: Int) {
        let size = 1024 * 1024
        let pieces = stride(from: 0, to: plaintext.count, by: size).map {
            plaintext.subdata(in: $0..<min($0 + size, plaintext.count))
        }
        return (try seal(pieces + [Data()]), 4 + 16)
    }
}

/// Names created in one directory (inotify: IN_CREATE, IN_MOVED_TO), read after the fact.
final class CreationWatcher {
    private let fd: Int32

    init(_ directory: URL) throws {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        guard inotify_add_watch(fd, directory.path, UInt32(IN_CREATE | IN_MOVED_TO)) >= 0 else {
            let code = errno
            close(fd)
            throw POSIXError(.init(rawValue: code) ?? .EIO)
        }
    }

    deinit { close(fd) }

    /// Every name created or moved into the directory since `init` (or the last call).
    func createdNames() -> [String] {
        var names: [String] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return names }
            var offset = 0
            while offset + 16 <= count {
                let length = buffer[(offset + 12)..<(offset + 16)].withUnsafeBytes { Int($0.loadUnaligned(as: UInt32.self)) }
                let name = buffer[(offset + 16)..<(offset + 16 + length)].prefix { $0 != 0 }
                names.append(String(decoding: name, as: UTF8.self))
                offset += 16 + length
            }
        }
    }
}
