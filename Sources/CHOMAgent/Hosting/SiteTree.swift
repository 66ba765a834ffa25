import Glibc
package import CHOMCore
package import CHOMSiteFiles
import Foundation

/// Ownership and modes of one site's tree (the table is on ``SiteLayout``; SECURITY.md says why
/// each is safe): the site directory, `releases/`, `current` and `.incoming/` are root's, so root
/// can act on them by name; the site user writes only its releases, `shared/`, `tmp/` and
/// `home/`, which root reaches through descriptors only.
///
/// The site directory is the one gate: `root:www-data 0750` plus an ACL entry `user:<site>:r-x`.
/// nginx's workers traverse it through the group, the site user (hooks, php-fpm pool, app)
/// through the ACL, every other site user gets EACCES, so the ordinary 0644/0755 modes builds
/// leave inside never expose a site to another. Site users are never in the web server group.
///
/// ``prepare()`` also converges a tree made by an older agent, where the site user owned the
/// site directory and everything in it (and may have planted links there): the site directory
/// is taken back first (``SiteLayout/prepare()``), then each skeleton entry that is not the
/// directory it should be is removed (never followed), `current` is re-made as root's, and the
/// old in-tree `logs/` goes.
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

    /// The tenant's own directories: (name, mode).
    static let tenantDirectories: [(String, mode_t)] = [("shared", 0o755), ("tmp", 0o700), ("home", 0o700)]

    /// Creates or converges the tree and applies the ownership, modes and ACL above. Safe to repeat.
    package func prepare() throws(CHOMError) {
        try layout.prepare()
        let site = try layout.openSite()
        let root = geteuid()
        try site.setOwner(uid: root, gid: webGroupID, mode: 0o750)
        try site.grantUser(account.uid, permissions: 0o5, owner: 0o7, group: 0o5, other: 0)
        try site.openDirectory("releases").setOwner(uid: root, gid: 0, mode: 0o755)
        try site.openDirectory(".incoming").setOwner(uid: root, gid: 0, mode: 0o711)
        let owner = (uid: account.uid, gid: account.gid)
        for (name, mode) in Self.tenantDirectories {
            if let kind = try site.status(name), kind != .directory { try site.removeTree(name) }
            let directory = try site.makeDirectories(name, mode: mode, owner: owner)
            try directory.setOwner(uid: account.uid, gid: account.gid, mode: mode)
        }
        // An older layout: nginx's logs lived in the tree (the tenant could swap them for links).
        if try site.status("logs") != nil { try site.removeTree("logs") }
        try convergeCurrent(site)
        // Entries of releases/ that are not directories cannot be releases: an older layout's.
        let releases = try site.openDirectory("releases")
        for name in try releases.entries() where try releases.status(name) != .directory {
            try releases.removeTree(name)
        }
    }

    /// `current` must be root's symlink to `releases/<id>`; one made by anyone else is re-made
    /// (same target), anything that is not a symlink is removed.
    private func convergeCurrent(_ site: SiteDirectory) throws(CHOMError) {
        guard let status = try site.entryStatus("current") else { return }
        guard FileKind(status) == .symlink, let release = layout.currentRelease() else {
            try site.removeTree("current")
            return
        }
        if status.st_uid != geteuid() {
            do {
                try layout.switchCurrent(to: release)
            } catch {
                throw CHOMError(.internal, "cannot re-make \(layout.current.path): \(error)")
            }
        }
    }

    /// Gives the directory `path` and everything under it to `uid:gid` without ever following a
    /// symlink. `path`'s parent must be root's (a staging directory's parent, the work directory).
    package static func chownTree(_ path: String, uid: UInt32, gid: UInt32, unreachable: Bool = false) throws(CHOMError) {
        let url = URL(fileURLWithPath: path)
        try SiteDirectory.openTrusted(url.deletingLastPathComponent().path)
            .openDirectory(url.lastPathComponent).chownTree(uid: uid, gid: gid, unreachable: unreachable)
    }
}
