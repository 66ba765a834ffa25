#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// File-system work inside the extraction destination, always relative to directory descriptors:
/// every path component is opened with O_NOFOLLOW | O_DIRECTORY and final names are created with
/// O_EXCL / mkdirat / symlinkat, so no operation can follow a symlink or leave the destination,
/// whatever entries were created before.
final class DestinationTree {
    private let rootFD: Int32
    private var cachedParent: (components: [String], fd: Int32)?
    private(set) var createdDirectories = 0

    init(rootFD: Int32) {
        self.rootFD = rootFD
    }

    /// Closes every descriptor this tree opened (not the root's, which the caller owns).
    func releaseDescriptors() {
        if let cachedParent { _ = close(cachedParent.fd) }
        cachedParent = nil
    }

    /// Creates a directory (refusing to reuse anything but an existing real directory).
    func makeDirectory(_ components: [String], entry: String) throws {
        let parent = try parentDirectory(of: components, entry: entry)
        let name = components[components.count - 1]
        if mkdirat(parent, name, 0o700) == 0 {
            createdDirectories += 1
            return
        }
        guard errno == EEXIST else { throw POSIX.ioError("mkdir", entry) }
        let existing = try POSIX.lstatus(at: parent, name)
        guard existing?.kind == .directory else { throw occupied(existing, entry: entry) }
    }

    /// Creates a new regular file for writing and returns its descriptor.
    func createFile(_ components: [String], entry: String) throws -> Int32 {
        let parent = try parentDirectory(of: components, entry: entry)
        let name = components[components.count - 1]
        let fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd >= 0 { return fd }
        guard errno == EEXIST else { throw POSIX.ioError("create", entry) }
        throw occupied(try POSIX.lstatus(at: parent, name), entry: entry)
    }

    func makeSymlink(_ components: [String], target: String, entry: String) throws {
        let parent = try parentDirectory(of: components, entry: entry)
        let name = components[components.count - 1]
        if symlinkat(target, parent, name) == 0 { return }
        guard errno == EEXIST else { throw POSIX.ioError("symlink", entry) }
        throw occupied(try POSIX.lstatus(at: parent, name), entry: entry)
    }

    /// Sets a directory's permission bits and modification time (used once all entries are in).
    func setDirectoryMetadata(_ components: [String], mode: UInt32, modificationTime: Int, entry: String) throws {
        let parent = try parentDirectory(of: components, entry: entry)
        let fd = openat(parent, components[components.count - 1], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 { throw POSIX.ioError("open", entry) }
        defer { _ = close(fd) }
        try Self.setMetadata(fd, mode: mode, modificationTime: modificationTime, entry: entry)
    }

    static func setMetadata(_ fd: Int32, mode: UInt32, modificationTime: Int, entry: String) throws {
        if fchmod(fd, mode_t(mode)) != 0 { throw POSIX.ioError("chmod", entry) }
        let time = timespec(tv_sec: modificationTime, tv_nsec: 0)
        let times = [time, time]  // access and modification
        if futimens(fd, times) != 0 { throw POSIX.ioError("set time of", entry) }
    }

    /// The descriptor of the directory that holds `components`' last name, creating missing
    /// directories and refusing any component that is a symlink or not a directory.
    private func parentDirectory(of components: [String], entry: String) throws -> Int32 {
        let parent = Array(components.dropLast())
        if parent.isEmpty { return rootFD }
        if let cachedParent, cachedParent.components == parent { return cachedParent.fd }
        var fd = rootFD
        defer { if fd != rootFD, fd != cachedParent?.fd { _ = close(fd) } }
        for component in parent {
            var next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT {
                if mkdirat(fd, component, 0o755) == 0 {
                    createdDirectories += 1
                } else if errno != EEXIST {
                    throw POSIX.ioError("mkdir", entry)
                }
                next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            if next < 0 {
                let code = errno
                guard code == ELOOP || code == ENOTDIR else { throw POSIX.ioError("open", entry, code) }
                let existing = try POSIX.lstatus(at: fd, component)
                let what = existing?.kind == .symlink ? "goes through the symlink" : "goes through the non-directory"
                throw ArchiveError.unsafePath(entry: entry, reason: "\(what) \(ArchiveError.quote(component))")
            }
            if fd != rootFD { _ = close(fd) }
            fd = next
        }
        if let cachedParent { _ = close(cachedParent.fd) }
        cachedParent = (parent, fd)
        return fd
    }

    private func occupied(_ existing: POSIX.Status?, entry: String) -> ArchiveError {
        switch existing?.kind {
        case .symlink: .unsafePath(entry: entry, reason: "a symlink already exists at this path")
        case .directory: .unsafePath(entry: entry, reason: "a directory already exists at this path")
        default: .unsafePath(entry: entry, reason: "a file already exists at this path")
        }
    }
}
