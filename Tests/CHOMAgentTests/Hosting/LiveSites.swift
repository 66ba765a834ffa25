import CHOMAgent
import CHOMCore
import CHOMTesting
import Foundation
import Glibc

/// Real site users and trees for the live hosting tests (root only): each site gets its user
/// (`useradd`) and its tree under a temporary sites root, both removed afterwards.
struct LiveSite: Sendable {
    let domain: String
    let user: SiteUserName
    let account: SiteAccount
    let tree: SiteTree

    var layout: SiteLayout { tree.layout }

    /// Writes `releases/<id>/public/<name>` for each file (as root), hands the release to the
    /// site user and points `current` at it. Returns the release directory.
    @discardableResult
    func publish(_ releaseID: String, files: [String: String]) throws -> URL {
        let release = layout.release(releaseID)
        let public_ = release.appendingPathComponent("public", isDirectory: true)
        try FileManager.default.createDirectory(at: public_, withIntermediateDirectories: true)
        for (name, text) in files {
            try Data(text.utf8).write(to: public_.appendingPathComponent(name))
        }
        try SiteTree.chownTree(release.path, uid: account.uid, gid: account.gid)
        try layout.switchCurrent(to: releaseID)
        return release
    }

    /// The static server block for this site on `nginx`'s port.
    func staticConfig(on nginx: TestNginx, kind: SiteSpec.Kind = .static) throws -> String {
        let logs = layout.sitesRoot.appendingPathComponent(".logs/\(domain)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let spec = SiteSpec(domain: domain, kind: kind, layout: layout, logs: logs, maintenancePage: layout.site.path + "/503.html")
        return try NginxSiteConfig.render(spec, configuration: nginx.siteConfiguration)
    }
}

enum LiveSites {
    static let isRoot = getuid() == 0
    static let rootOnly = "needs root: creates Linux users and changes file owners"

    /// Creates one site per domain (user + tree), runs `body`, removes users and files.
    static func with<T>(_ domains: [String], _ body: ([LiveSite]) async throws -> T) async throws -> T {
        let root = try TemporaryDirectory.make(prefix: "h-sites")
        let users = SiteUsers()
        var sites: [LiveSite] = []
        func cleanUp() async {
            for site in sites { try? await users.remove(site.user) }
            TemporaryDirectory.remove(root)
        }
        do {
            for domain in domains {
                let user = SiteUserName(site: SiteID())
                let layout = SiteLayout(sitesRoot: root, domain: domain)
                let account = try await users.ensure(user, home: layout.home.path)
                let tree = try SiteTree(layout: layout, account: account)
                sites.append(LiveSite(domain: domain, user: user, account: account, tree: tree))
                try tree.prepare()
            }
            let result = try await body(sites)
            await cleanUp()
            return result
        } catch {
            await cleanUp()
            throw error
        }
    }

    /// Polls until `check` returns a response whose body contains `text` (a reload takes effect
    /// within moments, not at once); returns the last response or rethrows the last failure.
    /// With `nginx`, also waits for the old workers to go, so later requests see only the new
    /// configuration.
    static func eventually(
        _ check: HealthCheck, host: String, path: String = "/", contains text: String, nginx: TestNginx? = nil
    ) async throws -> HealthCheck.Response {
        var last: Result<HealthCheck.Response, HealthCheckFailure> = .failure(HealthCheckFailure(.connectionRefused))
        for _ in 0..<100 {
            do throws(HealthCheckFailure) {
                let response = try await check.get(host: host, path: path)
                last = .success(response)
            } catch {
                last = .failure(error)
            }
            if case .success(let response) = last, response.body.contains(text) {
                try await nginx?.waitForWorkers()
                return response
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try last.get()
    }
}
