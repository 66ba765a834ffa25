import Glibc

/// A Linux account as the password database has it (getpwnam_r / getgrnam_r).
package struct SiteAccount: Sendable, Equatable {
    package var name: String
    package var uid: UInt32
    /// The primary group.
    package var gid: UInt32
    package var home: String
    package var shell: String

    package init(name: String, uid: UInt32, gid: UInt32, home: String, shell: String) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
        self.shell = shell
    }

    /// The user named `name`, or nil when there is none.
    package static func lookup(_ name: String) -> SiteAccount? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        let status = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else { return nil }
        return SiteAccount(
            name: name, uid: entry.pw_uid, gid: entry.pw_gid, home: String(cString: entry.pw_dir),
            shell: String(cString: entry.pw_shell))
    }

    /// The id of the group named `name`, or nil when there is none.
    package static func groupID(_ name: String) -> UInt32? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 64 * 1024)
        let status = getgrnam_r(name, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else { return nil }
        return entry.gr_gid
    }
}
