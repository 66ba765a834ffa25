#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
package import CHOMSiteFiles
package import CHOMCore
package import Foundation

/// One site on disk (SECURITY.md has the whole model):
///
/// ```
/// <sites root>/                 root:root      0755   the operator's
/// <domain>/                     root:www-data  0750 + ACL user:<site user>:r-x   the gate
/// <domain>/releases/            root:root      0755
/// <domain>/releases/<id>/       site:site      0755   the tenant's release (hooks write here)
/// <domain>/current              root's symlink → releases/<id>
/// <domain>/shared/              site:site      0755   outlives releases (tenant-writable)
/// <domain>/tmp/                 site:site      0700   private TMPDIR, php's temp and sessions
/// <domain>/home/                site:site      0700   the site user's HOME
/// <domain>/.incoming/           root:root      0711   staging: root's extractions (0700, root's),
///                                                     git checkouts (0700, the site user's)
/// ```
///
/// Every directory root acts on by path (the site directory, `releases/`, `.incoming/`) is
/// root's, so no tenant process can rename or replace an entry in it; what lies inside the
/// tenant-writable places is reached only through ``SiteDirectory`` descriptors. Logs are not
/// in the tree: nginx writes them under the agent's state directory.
/// `domain` must already be validated (`DomainName.isValid`), `releaseID` be a lowercase UUID.
package struct SiteLayout: Sendable {
    package let sitesRoot: URL
    package let domain: String
    package let site: URL

    package init(sitesRoot: URL, domain: String) {
        self.sitesRoot = sitesRoot
        self.domain = domain
        site = sitesRoot.appendingPathComponent(domain, isDirectory: true)
    }

    package var releases: URL { site.appendingPathComponent("releases", isDirectory: true) }
    package var incoming: URL { site.appendingPathComponent(".incoming", isDirectory: true) }
    package var current: URL { site.appendingPathComponent("current", isDirectory: false) }
    /// `<site>/shared/`: paths that outlive releases.
    package var shared: URL { site.appendingPathComponent("shared", isDirectory: true) }
    /// `<site>/tmp/`: the site's private temporary directory.
    package var temporary: URL { site.appendingPathComponent("tmp", isDirectory: true) }
    /// `<site>/home/`: the site user's home.
    package var home: URL { site.appendingPathComponent("home", isDirectory: true) }

    package func release(_ releaseID: String) -> URL {
        releases.appendingPathComponent(releaseID, isDirectory: true)
    }

    // MARK: - Descriptors

    /// The sites root (the operator's, root's); ``prepare()`` creates it when missing.
    package func openSitesRoot() throws(CHOMError) -> SiteDirectory {
        try SiteDirectory.openTrusted(sitesRoot.path)
    }

    package func openSite() throws(CHOMError) -> SiteDirectory {
        try openSitesRoot().openDirectory(domain)
    }

    package func openReleases() throws(CHOMError) -> SiteDirectory {
        try openSite().openDirectory("releases")
    }

    package func openIncoming() throws(CHOMError) -> SiteDirectory {
        try openSite().openDirectory(".incoming")
    }

    /// Whether `shared/` is there (a directory).
    package func hasShared() -> Bool {
        ((try? openSite().status("shared")) ?? nil) == .directory
    }

    /// Whether `releases/<id>` is there (a directory).
    package func hasRelease(_ releaseID: String) -> Bool {
        ((try? openReleases().status(releaseID)) ?? nil) == .directory
    }

    /// Creates the root-owned skeleton (site directory 0750, `releases/` 0755, `.incoming/` 0711)
    /// and clears what an interrupted task left in `.incoming/` (tasks of a site run one at a
    /// time). Without hosting (unit tests of the pipeline) this is the whole tree; with hosting,
    /// `SiteTree.prepare()` adds owners, the ACL and the tenant's directories.
    package func prepare() throws(CHOMError) {
        let root = try SiteDirectory.makeTrusted(sitesRoot.path)
        let siteDirectory = try root.makeDirectories(domain, mode: 0o750)
        // An older layout gave the site directory to the site user: take it back before anything
        // else, so no tenant process can add, rename or replace an entry while we converge.
        let status = try siteDirectory.selfStatus()
        if status.st_uid != geteuid() || status.st_mode & 0o027 != 0 {
            try siteDirectory.setOwner(uid: geteuid(), gid: status.st_gid, mode: 0o750)
        }
        for (name, mode) in [("releases", mode_t(0o755)), (".incoming", mode_t(0o711))] {
            if let kind = try siteDirectory.status(name), kind != .directory {
                // Only an older, tenant-writable layout could have left this here: take it away.
                try siteDirectory.removeTree(name)
            }
            _ = try siteDirectory.makeDirectories(name, mode: mode)
        }
        let incoming = try siteDirectory.openDirectory(".incoming")
        for name in try incoming.entries() { try incoming.removeTree(name) }
    }

    /// The release id `current` points at, if it is a symlink into `releases/`.
    package func currentRelease() -> String? {
        guard let target = (try? openSite().linkTarget("current")) ?? nil else { return nil }
        let prefix = "releases/"
        guard target.hasPrefix(prefix) else { return nil }
        let id = String(target.dropFirst(prefix.count))
        return (try? SiteDirectory.checkName(id)) == nil ? nil : id
    }

    /// Points `current` at `releases/<id>` atomically: a new symlink `current.tmp-<random>`
    /// renamed over `current`, so readers see the old or the new release, never neither.
    package func switchCurrent(to releaseID: String) throws {
        let temporary = "current.tmp-" + UUID().uuidString.lowercased()
        do {
            let directory = try openSite()
            try directory.makeSymlink(temporary, to: "releases/" + releaseID)
            do {
                try directory.rename(temporary, to: "current")
            } catch {
                try? directory.removeTree(temporary)
                throw error
            }
            fsync(directory.descriptor)
        } catch {
            throw DeployFailure(step: .switch, reason: "cannot point current at releases/\(releaseID): \(error)")
        }
    }

    /// Removes `current` (no release is live).
    package func removeCurrent() throws(CHOMError) {
        let directory = try openSite()
        if try directory.status("current") != nil { try directory.removeTree("current") }
    }

    /// Keeps `keep` releases, the current one included, and removes the rest: the current release
    /// is never removed, the others go oldest first by creation order (the time the directory was
    /// renamed into `releases/`). Returns the removed ids.
    package func prune(keep: Int) throws -> [String] {
        let ordered = try releasesNewestFirst()
        // `keep` counts the current release (normally the newest) plus the newest others.
        let current = currentRelease()
        let others = ordered.filter { $0 != current }
        let keepOthers = max(1, keep) - (ordered.count == others.count ? 0 : 1)
        var removed: [String] = []
        let releasesDirectory = try openReleases()
        for name in others.dropFirst(keepOthers) {
            try releasesDirectory.removeTree(name)
            removed.append(name)
        }
        return removed
    }

    /// Release ids on disk, newest first (by the time each was renamed into `releases/`).
    package func releasesNewestFirst() throws -> [String] {
        let directory = try openReleases()
        var dated: [(name: String, created: Int128)] = []
        for name in try directory.entries() where !name.hasPrefix(".") {
            guard let st = try directory.entryStatus(name), FileKind(st) == .directory else { continue }
            dated.append((name, Int128(st.st_ctim.tv_sec) * 1_000_000_000 + Int128(st.st_ctim.tv_nsec)))
        }
        dated.sort { a, b in a.created != b.created ? a.created > b.created : a.name > b.name }
        return dated.map(\.name)
    }

    /// The release deployed before the current one: the newest release older than `current`.
    package func previousRelease() throws -> String? {
        let ordered = try releasesNewestFirst()
        guard let current = currentRelease(), let index = ordered.firstIndex(of: current) else {
            return ordered.first
        }
        return ordered.dropFirst(index + 1).first
    }

    /// Removes the whole site tree (after the site is off nginx and its processes are stopped).
    package func removeTree() throws(CHOMError) {
        guard let root = try? openSitesRoot() else { return }  // no sites root: nothing of the site here
        if try root.status(domain) != nil { try root.removeTree(domain) }
    }
}
