#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
package import CHOMCore

/// Handing trees and entries to a site user without following anything (see ``SiteDirectory``).
extension SiteDirectory {
    /// Gives this directory and everything under it to `uid:gid` without following a symlink:
    /// links are re-owned themselves, directories entered through `O_NOFOLLOW` descriptors.
    /// `unreachable`: the caller knows that no other user can reach this tree (it lies below a
    /// directory only root may enter, like a restore's work directory), so no entry can be swapped
    /// while it is walked: each is checked with `fstatat` and re-owned by name with
    /// `fchownat(AT_SYMLINK_NOFOLLOW)`, the same checks without the `O_PATH` descriptor per entry.
    package func chownTree(uid: UInt32, gid: UInt32, unreachable: Bool = false) throws(CHOMError) {
        guard fchown(descriptor, uid, gid) == 0 else { throw SiteFileError.posix(errno, "chown", path) }
        if unreachable {
            try chownUnreachableEntries(uid: uid, gid: gid, depth: 0)
        } else {
            try chownEntries(uid: uid, gid: gid, depth: 0)
        }
    }

    private func chownUnreachableEntries(uid: UInt32, gid: UInt32, depth: Int) throws(CHOMError) {
        guard depth < Self.maximumDepth else {
            throw CHOMError(.refused, "\(path) is nested more than \(Self.maximumDepth) directories deep")
        }
        try forEachBatch { (names: [String]) throws(CHOMError) in
            for name in names {
                var st = stat()
                guard fstatat(descriptor, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                    throw SiteFileError.posix(errno, "stat", child(name))
                }
                let isDirectory = FileKind(st) == .directory
                if try needsHandOver(name, st, uid: uid, gid: gid) {
                    guard fchownat(descriptor, name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else {
                        throw SiteFileError.posix(errno, "chown", child(name))
                    }
                }
                guard isDirectory else { continue }
                let fd = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard fd >= 0 else { throw SiteFileError.posix(errno, "open directory", child(name)) }
                try SiteDirectory.adopt(fd, path: child(name)).chownUnreachableEntries(uid: uid, gid: gid, depth: depth + 1)
            }
        }
    }

    /// Re-owns `name` and, when it is a directory, everything below it: the directory is entered
    /// through the very `O_PATH` descriptor that was checked and re-owned (`openat(fd, ".")`), so
    /// no second lookup of the name can meet something swapped in, and nothing else is opened twice.
    private func chownChild(_ name: String, uid: UInt32, gid: UInt32, depth: Int) throws(CHOMError) {
        guard let entry = try chownEntry(name, uid: uid, gid: gid, keepOpen: true) else { return }
        defer { close(entry) }
        let fd = openat(entry, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SiteFileError.posix(errno, "open directory", child(name)) }
        try SiteDirectory.adopt(fd, path: child(name)).chownEntries(uid: uid, gid: gid, depth: depth + 1)
    }

    private func chownEntries(uid: UInt32, gid: UInt32, depth: Int) throws(CHOMError) {
        guard depth < Self.maximumDepth else {
            throw CHOMError(.refused, "\(path) is nested more than \(Self.maximumDepth) directories deep")
        }
        try forEachBatch { (names: [String]) throws(CHOMError) in
            for name in names { try chownChild(name, uid: uid, gid: gid, depth: depth) }
        }
    }

    /// Re-owns the entry `name` through an `O_PATH | O_NOFOLLOW` descriptor, after checking what
    /// it is: a name in a tenant-writable directory can be swapped for a hard link to someone
    /// else's file between our look and our chown, so a non-directory with more than one link
    /// that is not already the target's, or anything owned by a third user, is refused rather
    /// than handed over. Absent is fine (removed meanwhile).
    /// With `keepOpen`, a directory's `O_PATH` descriptor is returned for the caller to enter and
    /// close; otherwise (and for anything else) nil.
    @discardableResult
    func chownEntry(_ name: String, uid: UInt32, gid: UInt32, keepOpen: Bool = false) throws(CHOMError) -> Int32? {
        let fd = openat(descriptor, name, Self.pathOnly | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw SiteFileError.posix(errno, "open", child(name))
        }
        var keep = false
        defer { if !keep { close(fd) } }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SiteFileError.posix(errno, "stat", child(name)) }
        let isDirectory = FileKind(st) == .directory
        if try needsHandOver(name, st, uid: uid, gid: gid) {
            guard fchownat(fd, "", uid, gid, Self.emptyPath | AT_SYMLINK_NOFOLLOW) == 0 else {
                throw SiteFileError.posix(errno, "chown", child(name))
            }
        }
        keep = keepOpen && isDirectory
        return keep ? fd : nil
    }

    /// `O_PATH` and `AT_EMPTY_PATH` (Linux), which the Glibc module may not export.
    /// Whether the entry `name` (its `stat`, not followed) must be re-owned to `uid:gid`; refuses
    /// one of a third user's, and a non-directory with more than one link that is not already the
    /// target's (a hard link planted to someone else's file).
    private func needsHandOver(_ name: String, _ st: stat, uid: UInt32, gid: UInt32) throws(CHOMError) -> Bool {
        guard st.st_uid != uid || st.st_gid != gid else { return false }
        guard st.st_uid == uid || st.st_uid == geteuid() else {
            throw CHOMError(.refused, "\(child(name)) belongs to uid \(st.st_uid): not handed to uid \(uid)")
        }
        guard FileKind(st) == .directory || st.st_nlink <= 1 || st.st_uid == uid else {
            throw CHOMError(.refused, "\(child(name)) has \(st.st_nlink) links: not handed to uid \(uid) (a planted hard link?)")
        }
        return true
    }

    static let pathOnly: Int32 = 0o10_000_000
    static let emptyPath: Int32 = 0x1000
}
