// PrivateFile.swift
// Secret files (CA key, agent key, identities): written atomically, mode 0600
// from the moment they exist, never world- or group-readable.

package import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

package enum PrivateFile {
    /// Atomically replaces `url` with `data`, mode 0600.
    ///
    /// Writes a temporary file in the same directory, created by
    /// `open(O_CREAT | O_EXCL, 0o600)` so it is never readable by others even briefly,
    /// fsyncs it, renames it over `url`, then fsyncs the directory.
    package static func write(_ data: Data, to url: URL) throws {
        let path = url.path
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-" + UUID().uuidString.lowercased()

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PKIError.fileSystem(operation: "create", path: temporary, errno: errno) }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }

        do {
            defer { close(fd) }
            // The umask can only narrow 0600, but make the mode explicit anyway.
            guard fchmod(fd, 0o600) == 0 else {
                throw PKIError.fileSystem(operation: "chmod", path: temporary, errno: errno)
            }
            try writeAll(data, to: fd, path: temporary)
            guard fsync(fd) == 0 else { throw PKIError.fileSystem(operation: "fsync", path: temporary, errno: errno) }
        }
        guard rename(temporary, path) == 0 else {
            throw PKIError.fileSystem(operation: "rename", path: path, errno: errno)
        }
        renamed = true
        syncDirectory(directory)
    }

    /// Reads the whole file.
    package static func read(_ url: URL) throws -> Data {
        let path = url.path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PKIError.fileSystem(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw PKIError.fileSystem(operation: "read", path: path, errno: errno)
            }
            if count == 0 { return data }
            data.append(contentsOf: chunk[0..<count])
        }
    }

    private static func writeAll(_ data: Data, to fd: Int32, path: String) throws {
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let written = posixWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw PKIError.fileSystem(operation: "write", path: path, errno: errno)
                }
                offset += written
            }
        }
    }

    /// Makes the rename durable. Best effort: some file systems refuse fsync on directories.
    private static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}

// `PrivateFile.write`/`read` shadow the libc functions inside the enum.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}

private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
