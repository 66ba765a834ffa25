#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Thin helpers over the POSIX calls CHOMArchive needs: errno-checked wrappers, lstat, reading
/// a file in chunks, and directory listings.
enum POSIX {
    enum FileKind: Equatable {
        case regular, directory, symlink, other
    }

    struct Status {
        var kind: FileKind
        var mode: UInt32
        var size: Int
        var mtime: Int
    }

    static func errorMessage(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "unknown error" }
        return String(cString: text)
    }

    static func ioError(_ operation: String, _ path: String, _ code: Int32 = errno) -> ArchiveError {
        .io(operation: operation, path: path, code: code)
    }

    static func status(from st: stat) -> Status {
        let format = UInt32(st.st_mode) & UInt32(S_IFMT)
        let kind: FileKind
        switch format {
        case UInt32(S_IFREG): kind = .regular
        case UInt32(S_IFDIR): kind = .directory
        case UInt32(S_IFLNK): kind = .symlink
        default: kind = .other
        }
        #if canImport(Darwin)
        let mtime = Int(st.st_mtimespec.tv_sec)
        #else
        let mtime = Int(st.st_mtim.tv_sec)
        #endif
        return Status(kind: kind, mode: UInt32(st.st_mode) & 0o7777, size: Int(st.st_size), mtime: mtime)
    }

    /// lstat: never follows a final symlink. Nil when the path does not exist.
    static func lstatus(_ path: String) throws -> Status? {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT { return nil }
            throw ioError("lstat", path)
        }
        return status(from: st)
    }

    /// fstatat with AT_SYMLINK_NOFOLLOW relative to a directory descriptor. Nil when absent.
    static func lstatus(at directory: Int32, _ name: String) throws -> Status? {
        var st = stat()
        if fstatat(directory, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
            if errno == ENOENT { return nil }
            throw ioError("fstatat", name)
        }
        return status(from: st)
    }

    /// Names in a directory, without "." and "..", sorted by their UTF-8 bytes.
    static func sortedNames(inDirectory path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw ioError("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw ioError("readdir", path) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String? in
                let bytes = raw.prefix { $0 != 0 }
                return String(validating: bytes, as: UTF8.self)
            }
            guard let name else {
                throw ArchiveError.unsafePath(entry: path, reason: "contains a file name that is not valid UTF-8")
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    static func readLink(_ path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        if count < 0 { throw ioError("readlink", path) }
        let bytes = buffer[0..<count].map { UInt8(bitPattern: $0) }
        guard let target = String(validating: bytes, as: UTF8.self) else {
            throw ArchiveError.unsafePath(entry: path, reason: "symlink target is not valid UTF-8")
        }
        return target
    }

    /// Writes all of `data` to `fd`, retrying on EINTR and short writes.
    static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { raw in
            guard var pointer = raw.baseAddress else { return }
            var remaining = raw.count
            while remaining > 0 {
                let written = write(fd, pointer, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw ioError("write", path)
                }
                remaining -= written
                pointer += written
            }
        }
    }

    /// Reads up to `count` bytes; an empty result means end of file.
    static func readChunk(_ fd: Int32, upTo count: Int, path: String) throws -> Data {
        var data = Data(count: count)
        let got = try data.withUnsafeMutableBytes { raw -> Int in
            while true {
                let result = read(fd, raw.baseAddress, count)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw ioError("read", path)
                }
                return result
            }
        }
        data.count = got
        return data
    }

    /// Opens an existing file for reading without following a final symlink.
    static func openForReading(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 { throw ioError("open", path) }
        return fd
    }
}
