#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CHOMCore

/// Entries made for a tenant in the tenant's own directory are the tenant's from birth.
///
/// Made by root and re-owned a moment later, an entry is root's while it is visible in a directory
/// the tenant writes: a tenant process may rename it aside before the `fchown` lands, and a
/// root-owned file, directory or link then stays in its tree. So when the directory an entry is
/// made in belongs to the entry's owner, the entry is made under the owner's file-system identity
/// (`setfsgid` + `setfsuid`, this thread only: the kernel also drops root's file capabilities for
/// the call, so the permission checks are the owner's too). In a directory of root's nobody else
/// can touch the entry, and root makes it and re-owns it through the descriptor as before.
extension SiteDirectory {
    /// Runs `make` (one `*at` call on this directory's descriptor) as `owner` when this directory
    /// is the owner's; returns its result, whether it ran as the owner, and its errno.
    func making<Result>(
        for owner: (uid: UInt32, gid: UInt32)?, _ make: () -> Result
    ) throws(CHOMError) -> (result: Result, asOwner: Bool, code: Int32) {
        guard let owner, owner.uid != 0, geteuid() == 0, try selfStatus().st_uid == owner.uid else {
            let result = make()
            return (result, false, errno)
        }
        guard let identity = FileSystemIdentity.calls else {
            throw CHOMError(.unavailable, "setfsuid is not available: cannot make \(path)'s entries as uid \(owner.uid)")
        }
        // Set, then read back (a second call returns the current value): a refused change leaves root's.
        let previousGID = identity.setGID(owner.gid)
        let previousUID = identity.setUID(owner.uid)
        defer {
            _ = identity.setUID(UInt32(bitPattern: previousUID))
            _ = identity.setGID(UInt32(bitPattern: previousGID))
        }
        guard identity.setGID(owner.gid) == Int32(bitPattern: owner.gid), identity.setUID(owner.uid) == Int32(bitPattern: owner.uid) else {
            throw CHOMError(.unavailable, "cannot take uid \(owner.uid)'s file-system identity to make \(path)'s entries")
        }
        let result = make()
        return (result, true, errno)
    }
}

/// `setfsuid` and `setfsgid`, which Swift's Glibc module does not export, looked up once with
/// `dlsym` (C calling convention).
enum FileSystemIdentity {
    struct Calls: Sendable {
        let setUID: @convention(c) (UInt32) -> Int32
        let setGID: @convention(c) (UInt32) -> Int32
    }

    static let calls: Calls? = {
        guard let handle = dlopen(nil, RTLD_NOW), let uid = dlsym(handle, "setfsuid"), let gid = dlsym(handle, "setfsgid") else {
            return nil
        }
        return Calls(
            setUID: unsafeBitCast(uid, to: (@convention(c) (UInt32) -> Int32).self),
            setGID: unsafeBitCast(gid, to: (@convention(c) (UInt32) -> Int32).self))
    }()
}
