#if canImport(Glibc)
package import Glibc
#elseif canImport(Musl)
package import Musl
#endif
package import CHOMCore

/// The site-file layer: every file operation the root agent makes inside a site tree goes through
/// a `SiteDirectory`, an open directory descriptor, and names **one component** relative to it.
///
/// The rule it keeps (SECURITY.md): root never resolves a path through a directory that a tenant
/// can write. A `SiteDirectory` is opened from a root-owned parent with `O_NOFOLLOW` at every
/// component (``openDirectory(_:)``), every call on it is an `*at` call on its descriptor with
/// `AT_SYMLINK_NOFOLLOW` / `O_NOFOLLOW`, files are opened `O_NONBLOCK` and checked with `fstat`
/// before a byte is read (a FIFO never blocks, a device is never read), and trees are removed or
/// re-owned by walking descriptors (``removeTree(_:)``, ``chownTree(uid:gid:)``). A symlink, FIFO or
/// hard link that a site user plants in a tenant-writable directory, or swaps in during the
/// walk, is therefore seen as what it is and never followed.
///
/// Outside this module the agent holds paths only to root-owned places (the sites root, a site
/// directory, `releases/`, its state directory); `SiteFileLayerTests` fails when code elsewhere
/// calls a path-based file API without saying why its path is not a site path.
package final class SiteDirectory: Sendable {
    package let descriptor: Int32
    /// For messages only; never used to open anything.
    package let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// Takes ownership of a directory descriptor opened `O_NOFOLLOW` by this module.
    static func adopt(_ descriptor: Int32, path: String) -> SiteDirectory {
        SiteDirectory(descriptor: descriptor, path: path)
    }

    /// Opens a root-owned, operator-configured directory (the sites root, the agent's state or
    /// log directory) by its absolute path; the last component must not be a symlink. Only for
    /// paths no tenant can write: a site's own tree is reached from here with ``openDirectory(_:)``.
    package static func openTrusted(_ path: String) throws(CHOMError) -> SiteDirectory {
        guard path.hasPrefix("/") else { throw CHOMError(.invalidInput, "\(path) is not an absolute path") }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw SiteFileError.posix(errno, "open", path) }
        return SiteDirectory(descriptor: fd, path: path)
    }

    /// Creates `path` and missing parents (root's, `mode`) when absent, then opens it like
    /// ``openTrusted(_:)``. For the agent's own directories only.
    package static func makeTrusted(_ path: String, mode: mode_t = 0o755) throws(CHOMError) -> SiteDirectory {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, mode) != 0 && errno != EEXIST { throw SiteFileError.posix(errno, "mkdir", prefix) }
        }
        return try openTrusted(path)
    }

    // MARK: - Walking

    /// Opens a directory below this one, one component at a time, each with `O_NOFOLLOW`: a
    /// symlink anywhere on the way fails with ELOOP/ENOTDIR instead of being followed.
    package func openDirectory(_ relative: String) throws(CHOMError) -> SiteDirectory {
        let components = try Self.components(relative)
        var current = try openChild(components[0])
        for component in components.dropFirst() { current = try current.openChild(component) }
        return current
    }

    private func openChild(_ name: String) throws(CHOMError) -> SiteDirectory {
        let fd = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw SiteFileError.posix(errno, "open directory", child(name)) }
        return SiteDirectory(descriptor: fd, path: child(name))
    }

    /// Creates each missing directory of `relative` (mode `mode`, owned by `owner` when given:
    /// made as the owner in the owner's directory, see `making(for:_:)`) and opens the last,
    /// never following a symlink on the way.
    package func makeDirectories(
        _ relative: String, mode: mode_t = 0o755, owner: (uid: UInt32, gid: UInt32)? = nil
    ) throws(CHOMError) -> SiteDirectory {
        var current = self
        for component in try Self.components(relative) {
            let made = try current.making(for: owner) { mkdirat(current.descriptor, component, mode) }
            let created = made.result == 0
            guard created || made.code == EEXIST else { throw SiteFileError.posix(made.code, "mkdir", current.child(component)) }
            current = try current.openChild(component)
            // Through the descriptor just opened (a directory: no hard link can stand in for it).
            if created, !made.asOwner, let owner, fchown(current.descriptor, owner.uid, owner.gid) != 0 {
                throw SiteFileError.posix(errno, "chown", current.path)
            }
        }
        return current
    }

    // MARK: - Looking

    /// What is at `name`, the entry itself (a symlink is reported as one); nil when absent.
    package func status(_ name: String) throws(CHOMError) -> FileKind? {
        try entryStatus(name).map { FileKind($0) }
    }

    /// `stat` of the entry itself (`AT_SYMLINK_NOFOLLOW`); nil when absent.
    package func entryStatus(_ name: String) throws(CHOMError) -> stat? {
        try Self.checkName(name)
        var st = stat()
        guard fstatat(descriptor, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return nil }
            throw SiteFileError.posix(errno, "stat", child(name))
        }
        return st
    }

    /// `stat` of this directory.
    package func selfStatus() throws(CHOMError) -> stat {
        var st = stat()
        guard fstat(descriptor, &st) == 0 else { throw SiteFileError.posix(errno, "stat", path) }
        return st
    }

    /// At most this many names are read from one directory at once: a tenant's directory of
    /// millions of names must not make root's agent hold them all.
    package static let entryBatch = 65_536

    /// The names in this directory, `.` and `..` left out; more than `limit` is refused.
    package func entries(limit: Int = 1_000_000) throws(CHOMError) -> [String] {
        var names: [String] = []
        try forEachBatch { (batch: [String]) throws(CHOMError) in
            names += batch
            guard names.count <= limit else {
                throw CHOMError(.refused, "\(path) holds more than \(limit) entries")
            }
        }
        return names
    }

    /// Reads the directory in batches of at most ``entryBatch`` names, handing each to `body`
    /// before reading on: memory stays bounded whatever the directory holds.
    package func forEachBatch(_ body: ([String]) throws(CHOMError) -> Void) throws(CHOMError) {
        let duplicate = dup(descriptor)
        guard duplicate >= 0 else { throw SiteFileError.posix(errno, "dup", path) }
        guard let stream = fdopendir(duplicate) else {
            let code = errno
            close(duplicate)
            throw SiteFileError.posix(code, "opendir", path)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw SiteFileError.posix(errno, "readdir", path) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
            if names.count >= Self.entryBatch {
                try body(names)
                names.removeAll(keepingCapacity: true)
            }
        }
        if !names.isEmpty { try body(names) }
    }

    /// A symlink's target; nil when `name` is absent or not a symlink.
    package func linkTarget(_ name: String) throws(CHOMError) -> String? {
        try Self.checkName(name)
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(descriptor, name, &buffer, buffer.count - 1)
        guard count >= 0 else {
            if errno == ENOENT || errno == EINVAL { return nil }
            throw SiteFileError.posix(errno, "readlink", child(name))
        }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: - Files

    /// Opens an existing regular file for reading: `O_NOFOLLOW | O_NONBLOCK`, then `fstat` must
    /// say a regular file (a FIFO, socket or device planted in its place is refused without
    /// blocking) and, when given, owned by `owner` (a hard link to someone else's file is
    /// refused). The caller closes the descriptor.
    package func openFileForReading(_ name: String, owner: UInt32? = nil) throws(CHOMError) -> Int32 {
        try Self.checkName(name)
        let fd = openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw SiteFileError.posix(errno, "open", child(name)) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            close(fd)
            throw SiteFileError.posix(code, "fstat", child(name))
        }
        guard FileKind(st) == .file else {
            close(fd)
            throw CHOMError(.refused, "\(child(name)) is not a regular file (\(FileKind(st)))")
        }
        if let owner, st.st_uid != owner {
            close(fd)
            throw CHOMError(.refused, "\(child(name)) is not owned by uid \(owner)")
        }
        return fd
    }

    /// Creates a new regular file (`O_EXCL | O_NOFOLLOW`: never an existing entry), owned by
    /// `owner` when given. The caller closes the descriptor.
    package func createFile(_ name: String, mode: mode_t = 0o644, owner: (uid: UInt32, gid: UInt32)? = nil) throws(CHOMError) -> Int32 {
        try Self.checkName(name)
        let made = try making(for: owner) { openat(descriptor, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode) }
        let fd = made.result
        guard fd >= 0 else { throw SiteFileError.posix(made.code, "create", child(name)) }
        if !made.asOwner, let owner, fchown(fd, owner.uid, owner.gid) != 0 {
            let code = errno
            close(fd)
            throw SiteFileError.posix(code, "chown", child(name))
        }
        return fd
    }

    /// Writes `bytes` to a new file `name` via a temporary name and a rename, so readers see the
    /// old file or the new one; refuses to replace a directory.
    package func writeFileAtomically(_ name: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(CHOMError) {
        let temporary = ".\(name).tmp-\(UInt32.random(in: 0...UInt32.max))"
        let fd = try createFile(temporary, mode: mode)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                unlinkat(descriptor, temporary, 0)
                throw SiteFileError.posix(code, "write", child(temporary))
            }
            offset += written
        }
        fsync(fd)
        close(fd)
        try rename(temporary, to: name)
    }

    // MARK: - Changing

    /// Sets owner and mode of this directory (`fchown`/`fchmod` on the descriptor).
    package func setOwner(uid: UInt32, gid: UInt32, mode: mode_t) throws(CHOMError) {
        guard fchown(descriptor, uid, gid) == 0 else { throw SiteFileError.posix(errno, "chown", path) }
        guard fchmod(descriptor, mode) == 0 else { throw SiteFileError.posix(errno, "chmod", path) }
    }

    /// Sets the owner of the entry `name` itself (`AT_SYMLINK_NOFOLLOW`: a link, not its target).
    package func setEntryOwner(_ name: String, uid: UInt32, gid: UInt32) throws(CHOMError) {
        try Self.checkName(name)
        try chownEntry(name, uid: uid, gid: gid)
    }

    /// Sets this directory's mode (`fchmod` on the descriptor).
    package func setMode(_ mode: mode_t) throws(CHOMError) {
        guard fchmod(descriptor, mode) == 0 else { throw SiteFileError.posix(errno, "chmod", path) }
    }

    /// Renames `name` to `newName` in `destination` (this directory by default): `renameat`,
    /// which moves the entry itself whatever it is.
    package func rename(_ name: String, to newName: String, in destination: SiteDirectory? = nil) throws(CHOMError) {
        try Self.checkName(name)
        try Self.checkName(newName)
        let target = destination ?? self
        guard renameat(descriptor, name, target.descriptor, newName) == 0 else {
            throw SiteFileError.posix(errno, "rename", "\(child(name)) to \(target.child(newName))")
        }
    }

    /// A new symlink `name` → `target`; the link itself owned by `owner` when given.
    package func makeSymlink(_ name: String, to target: String, owner: (uid: UInt32, gid: UInt32)? = nil) throws(CHOMError) {
        try Self.checkName(name)
        let made = try making(for: owner) { symlinkat(target, descriptor, name) }
        guard made.result == 0 else { throw SiteFileError.posix(made.code, "symlink", child(name)) }
        if !made.asOwner, let owner { try chownEntry(name, uid: owner.uid, gid: owner.gid) }
    }

    /// Removes `name` whatever it is; a directory with everything under it, walking descriptors
    /// opened with `O_NOFOLLOW`, so a symlink inside is removed as a link and never entered.
    /// Absent is fine.
    package func removeTree(_ name: String) throws(CHOMError) {
        try Self.checkName(name)
        try removeEntry(name, depth: 0)
    }

    private func removeEntry(_ name: String, depth: Int) throws(CHOMError) {
        if unlinkat(descriptor, name, 0) == 0 { return }
        switch errno {
        case ENOENT: return
        case EISDIR, EPERM:  // Linux answers EISDIR for a directory (EPERM on some file systems)
            break
        default: throw SiteFileError.posix(errno, "unlink", child(name))
        }
        guard depth < Self.maximumDepth else {
            throw CHOMError(.refused, "\(child(name)) is nested more than \(Self.maximumDepth) directories deep")
        }
        let fd = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return }
            throw SiteFileError.posix(errno, "open directory", child(name))
        }
        let directory = SiteDirectory(descriptor: fd, path: child(name))
        // Entries may appear while we remove (a process of the site user): a few passes, each read
        // in bounded batches.
        for _ in 0..<8 {
            var removed = 0
            try directory.forEachBatch { (names: [String]) throws(CHOMError) in
                for entry in names { try directory.removeEntry(entry, depth: depth + 1) }
                removed += names.count
            }
            if removed == 0 { break }
        }
        guard unlinkat(descriptor, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
            throw SiteFileError.posix(errno, "rmdir", child(name))
        }
    }

    // MARK: - Helpers

    static let maximumDepth = 512

    package func child(_ name: String) -> String { path.hasSuffix("/") ? path + name : path + "/" + name }

    /// One plain component: not empty, `.` or `..`, no `/` or NUL.
    package static func checkName(_ name: String) throws(CHOMError) {
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.utf8.contains(0), name.utf8.count <= 255 else {
            throw CHOMError(.invalidInput, "\"\(name.prefix(64))\" is not a single file name")
        }
    }

    /// The components of a relative path of plain names.
    package static func components(_ relative: String) throws(CHOMError) -> [String] {
        let parts = relative.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard !relative.hasPrefix("/"), !parts.isEmpty else {
            throw CHOMError(.invalidInput, "\"\(relative.prefix(64))\" is not a relative path")
        }
        for part in parts { try checkName(part) }
        return parts
    }
}

/// What kind of entry a name is, seen without following it.
package enum FileKind: String, Sendable, Equatable, CustomStringConvertible {
    case file, directory, symlink, fifo, socket, device

    package init(_ st: stat) {
        switch UInt32(st.st_mode) & UInt32(S_IFMT) {
        case UInt32(S_IFREG): self = .file
        case UInt32(S_IFDIR): self = .directory
        case UInt32(S_IFLNK): self = .symlink
        case UInt32(S_IFIFO): self = .fifo
        case UInt32(S_IFSOCK): self = .socket
        default: self = .device
        }
    }

    package var description: String { rawValue }
}

enum SiteFileError {
    /// `code` first, so errno is read before anything else is built.
    static func posix(_ code: Int32, _ operation: String, _ path: String, file: String = #fileID, line: Int = #line) -> CHOMError {
        let reason = String(cString: strerror(code))
        let kind: CHOMError.Code = (code == ELOOP || code == ENOTDIR || code == EXDEV) ? .refused : .unavailable
        let hint = code == ELOOP ? " (a symlink where a directory belongs: not followed)" : ""
        return CHOMError(kind, "cannot \(operation) \(path): \(reason)\(hint)", file: file, line: line)
    }
}
