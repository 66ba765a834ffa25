#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// lstat(2) details the site layout needs.
enum FileStatus {
    /// The status-change time of a real directory (not a symlink) in nanoseconds, or nil.
    static func directoryChangeTime(_ path: String) -> Int128? {
        var status = stat()
        guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR else { return nil }
        #if canImport(Darwin)
        let time = status.st_ctimespec
        #else
        let time = status.st_ctim
        #endif
        return Int128(time.tv_sec) * 1_000_000_000 + Int128(time.tv_nsec)
    }

    /// True when `path` itself (not what it points to) is a symlink.
    static func isSymlink(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFLNK
    }

    /// True when something (a dangling symlink included) is at `path`.
    static func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0
    }
}
