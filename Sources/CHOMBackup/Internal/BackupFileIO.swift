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

/// The POSIX calls the backup engine needs, errno-checked and reported as `CHOMError`:
/// opening without following a final symlink, reading in bounded chunks, writing fully, fsync.
enum BackupFileIO {
    /// Files are read and copied in chunks of this size, whatever their length.
    static let chunkSize = 1024 * 1024

    /// Opens an existing regular file for reading; a symlink or anything else at `path` is refused.
    static func openRegularFile(_ path: String) throws(CHOMError) -> (fd: Int32, status: stat) {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw failure(errno, "open", path) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            close(fd)
            throw failure(code, "fstat", path)
        }
        guard UInt32(st.st_mode) & UInt32(S_IFMT) == UInt32(S_IFREG) else {
            close(fd)
            throw CHOMError(.refused, "\(BackupManifest.quote(path)) is not a regular file")
        }
        return (fd, st)
    }

    /// Creates a new file (never an existing one, never through a final symlink) for writing.
    static func createFile(_ path: String, mode: mode_t = 0o600) throws(CHOMError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure(errno, "create", path) }
        return fd
    }

    /// Reads up to `buffer.count` bytes into `buffer`; 0 means end of file.
    static func readSome(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws(CHOMError) -> Int {
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw failure(errno, "read", path) }
        }
    }

    /// Reads `count` bytes, or fewer only at end of file.
    static func readUpTo(_ fd: Int32, count: Int, path: String) throws(CHOMError) -> Data {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
        defer { buffer.deallocate() }
        var filled = 0
        while filled < count {
            let got = try readSome(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<count]), path: path)
            if got == 0 { break }
            filled += got
        }
        return Data(bytes: buffer.baseAddress!, count: filled)
    }

    static func writeAll(_ fd: Int32, _ data: Data, path: String) throws(CHOMError) {
        let code: Int32? = data.withUnsafeBytes { raw in
            guard var pointer = raw.baseAddress else { return nil }
            var remaining = raw.count
            while remaining > 0 {
                let written = write(fd, pointer, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                remaining -= written
                pointer += written
            }
            return nil
        }
        if let code { throw failure(code, "write", path) }
    }

    static func sync(_ fd: Int32, path: String) throws(CHOMError) {
        guard fsync(fd) == 0 else { throw failure(errno, "fsync", path) }
    }

    /// Makes a rename or unlink in `directory` durable.
    static func fsyncDirectory(_ directory: String) throws(CHOMError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno, "open", directory) }
        defer { close(fd) }
        try sync(fd, path: directory)
    }

    /// Copies `source` to the new file `destination` in 1 MiB chunks and fsyncs it; returns the byte count.
    @discardableResult
    static func copyFile(from source: String, to destination: String) throws(CHOMError) -> Int64 {
        let (input, _) = try openRegularFile(source)
        defer { close(input) }
        let output = try createFile(destination)
        defer { close(output) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let count = try readSome(input, into: buffer, path: source)
            if count == 0 { break }
            try writeAll(output, Data(bytes: buffer.baseAddress!, count: count), path: destination)
            total += Int64(count)
        }
        try sync(output, path: destination)
        return total
    }

    /// Renames `source` over `destination` and fsyncs the destination's directory.
    static func moveDurably(_ source: String, to destination: String) throws(CHOMError) {
        guard rename(source, destination) == 0 else { throw failure(errno, "rename", source) }
        try fsyncDirectory((destination as NSString).deletingLastPathComponent)
    }

    /// `code` comes first so that errno is read before the other arguments are built.
    static func failure(_ code: Int32, _ operation: String, _ path: String) -> CHOMError {
        ManifestTreeWalker.failure(code, operation, path)
    }
}
