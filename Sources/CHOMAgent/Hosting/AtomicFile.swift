import Glibc
package import CHOMCore

/// Whole-file replacement that readers (nginx, php-fpm) see as the old or the new content, never
/// a half-written file: a temporary file in the same directory, fsync, rename over the target,
/// fsync of the directory.
package enum AtomicFile {
    /// Writes `text` to `path` with `mode` (owned by the caller, normally root).
    package static func write(_ text: String, to path: String, mode: UInt32 = 0o644) throws(CHOMError) {
        let directory = parent(of: path)
        let temporary = "\(directory)/.\(basename(path)).tmp-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)  // not a tenant path: nginx and php-fpm configuration files (root's directories)
        guard fd >= 0 else { throw failure("cannot create \(temporary)") }
        var bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buffer in
                Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let error = failure("cannot write \(temporary)")
                close(fd)
                unlink(temporary)  // not a tenant path: nginx and php-fpm configuration files (root's directories)
                throw error
            }
            written += n
        }
        bytes.removeAll()
        guard fchmod(fd, mode) == 0, fsync(fd) == 0 else {
            let error = failure("cannot sync \(temporary)")
            close(fd)
            unlink(temporary)  // not a tenant path: nginx and php-fpm configuration files (root's directories)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {  // not a tenant path: nginx and php-fpm configuration files (root's directories)
            let error = failure("cannot rename \(temporary) to \(path)")
            unlink(temporary)  // not a tenant path: nginx and php-fpm configuration files (root's directories)
            throw error
        }
        syncDirectory(directory)
    }

    /// The file's text, or nil when there is no file.
    package static func read(_ path: String) throws(CHOMError) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)  // not a tenant path: nginx and php-fpm configuration files (root's directories)
        if fd < 0 && errno == ENOENT { return nil }
        guard fd >= 0 else { throw failure("cannot open \(path)") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw failure("cannot read \(path)") }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Removes the file; no file is fine.
    package static func remove(_ path: String) throws(CHOMError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw failure("cannot remove \(path)") }  // not a tenant path: nginx and php-fpm configuration files (root's directories)
        syncDirectory(parent(of: path))
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func basename(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    private static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)  // not a tenant path: nginx and php-fpm configuration files (root's directories)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func failure(_ what: String, file: String = #fileID, line: Int = #line) -> CHOMError {
        CHOMError(.internal, "\(what): \(String(cString: strerror(errno)))", file: file, line: line)
    }
}
