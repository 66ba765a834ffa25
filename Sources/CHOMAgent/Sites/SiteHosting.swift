package import CHOMSiteFiles
package import Foundation

/// What the agent does to the host for a site: its Linux user and tree, the nginx server block,
/// the php-fpm pool or app process, build hooks, the health check. `LinuxSiteHosting` runs the
/// real tools; executors only call this, so a deploy's logic reads as its pipeline.
package protocol SiteHosting: Sendable {
    /// Creates or updates the site on the host: user, tree and permissions, TLS files, nginx
    /// server block (checked with `nginx -t`, rolled back with nginx's message when refused,
    /// then reloaded), php-fpm pool or app process. Idempotent.
    func configure(_ site: HostedSite, layout: SiteLayout) async throws

    /// Gives a freshly extracted release (not yet in `releases/`, in a root-owned staging
    /// directory) to the site's user, never following a link in it. `unreachable`: the tree is
    /// below a directory only root may enter (a restore's work directory), so nobody can change
    /// it meanwhile (`SiteDirectory.chownTree(uid:gid:unreachable:)`).
    func own(_ site: HostedSite, tree: SiteDirectory, unreachable: Bool) async throws

    /// Runs one build hook as the site's user in `release`; returns the tail of its output.
    func run(_ hook: HostedSite.Hook, site: HostedSite, release: URL, releaseID: String) async throws -> String

    /// After `current` moved: reloads php-fpm or restarts the app so it serves the new release.
    func activate(_ site: HostedSite, layout: SiteLayout) async throws

    /// GET through nginx with the site's Host header; throws with the reason when the answer
    /// is not the expected status. Returns a short description of what it saw.
    func checkHealth(_ site: HostedSite) async throws -> String

    /// Takes the site off the host: server block, pool or process, every process of the site
    /// user, the tree, then the user (in that order: a freed user id is handed out again).
    func remove(_ site: HostedSite, layout: SiteLayout) async throws
}

extension SiteHosting {
    /// ``own(_:tree:unreachable:)`` for a tree another user may reach.
    func own(_ site: HostedSite, tree: SiteDirectory) async throws {
        try await own(site, tree: tree, unreachable: false)
    }
}
