import Glibc
package import CHOMCore
import Foundation

/// Ownership and modes of one site's tree, the model that keeps sites apart on a shared host:
///
/// ```
/// <sites root>/                   root:root         0755 (or 0711)   the caller's
/// <sites root>/<domain>/          site:www-data     0750             the gate
/// <sites root>/<domain>/releases  site:site         0755
/// <sites root>/<domain>/shared    site:site         0755
/// <sites root>/<domain>/logs      site:site         0755             nginx (root master) writes here
/// <sites root>/<domain>/.incoming site:site         0700
/// ```
///
/// The site directory is the one gate. Its owner (the site user: build hooks, php-fpm pool, app)
/// has full access; its group is the web server's (`www-data`), so nginx workers can traverse
/// it and read what lies under it; everyone else (every other site user) gets nothing, so the
/// ordinary 0644/0755 modes that builds leave inside never expose a site to another. Site users
/// are never members of the web server group. Files are written by root (deploys) and then handed
/// to the site user with ``chownTree(_:uid:gid:)``.
package struct SiteTree: Sendable {
    package var layout: SiteLayout
    package var account: SiteAccount
    package var webGroupID: UInt32

    package init(layout: SiteLayout, account: SiteAccount, webGroupID: UInt32) {
        self.layout = layout
        self.account = account
        self.webGroupID = webGroupID
    }

    /// With the web server group looked up by name (`www-data`).
    package init(layout: SiteLayout, account: SiteAccount, webGroup: String = "www-data") throws(CHOMError) {
        guard let gid = SiteAccount.groupID(webGroup) else {
            throw CHOMError(.configuration, "the web server group \(webGroup) does not exist")
        }
        self.init(layout: layout, account: account, webGroupID: gid)
    }

    package var shared: String { layout.site.appendingPathComponent("shared", isDirectory: true).path }
    package var logs: String { layout.site.appendingPathComponent("logs", isDirectory: true).path }

    /// Creates the tree (``SiteLayout/prepare()`` plus `shared/` and `logs/`) and applies the
    /// ownership and modes above. Safe to repeat.
    package func prepare() throws(CHOMError) {
        do {
            try layout.prepare()
        } catch {
            throw CHOMError(.internal, "cannot prepare \(layout.site.path)", underlying: error)
        }
        for directory in [shared, logs] where mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw Self.failure("cannot create \(directory)")
        }
        try Self.own(layout.site.path, uid: account.uid, gid: webGroupID, mode: 0o750)
        try Self.own(layout.releases.path, uid: account.uid, gid: account.gid, mode: 0o755)
        try Self.own(shared, uid: account.uid, gid: account.gid, mode: 0o755)
        try Self.own(logs, uid: account.uid, gid: account.gid, mode: 0o755)
        try Self.own(layout.incoming.path, uid: account.uid, gid: account.gid, mode: 0o700)
    }

    /// Sets owner, group and mode of one directory through a descriptor opened without following
    /// a symlink, so a link planted in its place is refused rather than followed.
    private static func own(_ path: String, uid: UInt32, gid: UInt32, mode: UInt32) throws(CHOMError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open directory \(path)") }
        defer { close(fd) }
        guard fchown(fd, uid, gid) == 0, fchmod(fd, mode) == 0 else { throw failure("cannot set owner of \(path)") }
    }

    /// Gives `path` and everything under it to `uid:gid` without ever following a symlink: links
    /// themselves are re-owned (lchown semantics), directories are entered through descriptors
    /// opened with `O_NOFOLLOW` relative to their parent's, so a tree the site user can write to
    /// cannot redirect root's chown to a file outside it (a swap between check and use).
    package static func chownTree(_ path: String, uid: UInt32, gid: UInt32) throws(CHOMError) {
        guard lchown(path, uid, gid) == 0 else { throw failure("cannot change owner of \(path)") }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOTDIR || errno == ELOOP { return }  // a file or a symlink: done
            throw failure("cannot open directory \(path)")
        }
        try chownEntries(of: fd, path: path, uid: uid, gid: gid, depth: 0)
    }

    /// Takes ownership of `fd` (closed on return).
    private static func chownEntries(of fd: Int32, path: String, uid: UInt32, gid: UInt32, depth: Int) throws(CHOMError) {
        guard depth < 512 else {
            close(fd)
            throw CHOMError(.refused, "\(path) is nested more than 512 directories deep")
        }
        guard let directory = fdopendir(fd) else {
            close(fd)
            throw failure("cannot read directory \(path)")
        }
        defer { closedir(directory) }
        let parent = dirfd(directory)
        while let entry = readdir(directory) {
            let (name, type) = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { (String(cString: $0), entry.pointee.d_type) }
            }
            if name == "." || name == ".." { continue }
            guard fchownat(parent, name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw failure("cannot change owner of \(path)/\(name)")
            }
            guard type == UInt8(DT_DIR) || type == UInt8(DT_UNKNOWN) else { continue }
            let child = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if child < 0 {
                if errno == ENOTDIR || errno == ELOOP { continue }
                throw failure("cannot open directory \(path)/\(name)")
            }
            try chownEntries(of: child, path: "\(path)/\(name)", uid: uid, gid: gid, depth: depth + 1)
        }
    }

    private static func failure(_ what: String, file: String = #fileID, line: Int = #line) -> CHOMError {
        CHOMError(.internal, "\(what): \(String(cString: strerror(errno)))", file: file, line: line)
    }
}
