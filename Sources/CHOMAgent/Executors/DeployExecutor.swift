import CHOMArchive
import CHOMSiteFiles
package import CHOMCore
package import CHOMProtocol
package import Foundation
package import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Deploys a release, reporting each step as progress:
/// configure → fetch (artifact or git) → verify → extract → link shared paths → build hooks →
/// switch → activate (php-fpm / app) → health check → prune.
///
/// The artifact streams into `.incoming/<release>.part`, hashed as it arrives and cut off past
/// the signed size; size and SHA-256 must equal the signed task's. `SafeExtractor` unpacks it
/// into a staging directory that is given to the site's user and renamed to `releases/<id>`
/// only when complete. Hooks then run there as the site user. Until the switch nothing a visitor
/// sees has changed. After the switch the site is asked for its health through nginx; when that
/// fails, `current` goes back to the previous release (which is activated again) and the deploy
/// fails at `health`, naming what the check saw.
package struct DeployExecutor: Sendable {
    package var sitesRoot: URL
    package var defaultKeepReleases: Int
    package var limits: AgentConfiguration.Deploy
    package var artifacts: any ArtifactSource
    /// nil: files only (no nginx, users or hooks), as unit tests of the pipeline use it.
    package var hosting: (any SiteHosting)?
    package var git: GitCheckout
    package var metrics: AgentMetrics?
    package var clock: any WallClock
    package var logger: Logger

    package init(
        sitesRoot: URL, defaultKeepReleases: Int = 5, limits: AgentConfiguration.Deploy = .init(),
        artifacts: any ArtifactSource, hosting: (any SiteHosting)? = nil, git: GitCheckout = GitCheckout(),
        metrics: AgentMetrics? = nil, clock: any WallClock, logger: Logger
    ) {
        self.sitesRoot = sitesRoot
        self.defaultKeepReleases = defaultKeepReleases
        self.limits = limits
        self.artifacts = artifacts
        self.hosting = hosting
        self.git = git
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
    }

    package func execute(_ task: Chom_Agent_V1_DeployTask, progress: ProgressReporter) async -> ExecutionResult {
        let releaseID: String
        let site: HostedSite
        do {
            (releaseID, site) = try validate(task)
        } catch {
            return ExecutionResult(outcome: .refused, message: error.description)
        }
        var logger = self.logger
        logger[metadataKey: LogKey.siteID] = "\(task.siteID.prefix(64))"
        logger[metadataKey: LogKey.releaseID] = "\(releaseID)"
        let layout = SiteLayout(sitesRoot: sitesRoot, domain: site.domain)
        var report = Chom_Agent_V1_TaskResult()
        do {
            let path = try await deploy(task, site: site, releaseID: releaseID, layout: layout, progress: progress)
            metrics?.sites.deployFinished(
                site: site.domain, tenant: site.tenantID, release: releaseID, result: .succeeded, at: clock.now())
            logger.info("release deployed")
            report.releaseID = releaseID
            return ExecutionResult(
                outcome: .succeeded, message: "release \(releaseID) is live on \(site.domain)", releasePath: path,
                report: report)
        } catch let failure as DeployFailure {
            logger.warning("deploy failed", metadata: [LogKey.error: "\(failure)"])
            report.failedStep = failure.step.rawValue
            report.releaseID = layout.currentRelease() ?? ""
            let rolledBack = failure.step == .health || failure.step == .activate
            metrics?.sites.deployFinished(
                site: site.domain, tenant: site.tenantID, release: layout.currentRelease(),
                result: rolledBack ? .rolledBack : .failed, at: clock.now())
            return ExecutionResult(outcome: .failed, message: failure.description, report: report)
        } catch {
            logger.warning("deploy failed", metadata: [LogKey.error: "\(error)"])
            report.releaseID = layout.currentRelease() ?? ""
            metrics?.sites.deployFinished(
                site: site.domain, tenant: site.tenantID, release: layout.currentRelease(), result: .failed, at: clock.now())
            return ExecutionResult(outcome: .failed, message: "deploy failed: \(error)", report: report)
        }
    }

    private func deploy(
        _ task: Chom_Agent_V1_DeployTask, site: HostedSite, releaseID: String, layout: SiteLayout,
        progress: ProgressReporter
    ) async throws -> String {
        do {
            try layout.prepare()
        } catch {
            throw DeployFailure(step: .prepare, reason: "cannot create \(layout.site.path): \(error.localizedDescription)")
        }
        if let hosting {
            do {
                try await hosting.configure(site, layout: layout)
            } catch {
                throw DeployFailure(step: .configure, reason: "\(error)")
            }
            await progress(DeployFailure.Step.configure.rawValue, "site user, tree and nginx server block in place")
        }
        if layout.hasRelease(releaseID) {
            // Only complete, built releases are ever kept in releases/: reuse it.
            await progress(DeployFailure.Step.fetch.rawValue, "release \(releaseID) already on disk; not fetched again")
        } else {
            let staging = try await stage(task, site: site, releaseID: releaseID, layout: layout, progress: progress)
            try await build(site, staging: staging, releaseID: releaseID, layout: layout, progress: progress)
        }
        do {
            try await layout.goLive(releaseID, site: site, hosting: hosting, progress: progress)
        } catch let failure as GoLiveFailure {
            throw DeployFailure(step: failure.step, reason: failure.description)
        }
        let keep = task.keepReleases > 0 ? Int(task.keepReleases) : (task.hasSite ? site.keepReleases : defaultKeepReleases)
        do {
            let removed = try layout.prune(keep: keep)
            await progress(
                DeployFailure.Step.prune.rawValue,
                removed.isEmpty ? "nothing to prune (keep \(keep))" : "removed \(removed.count): \(removed.joined(separator: ", "))")
        } catch {
            // The new release is live; a leftover old release is not worth failing the deploy.
            logger.warning("pruning old releases failed", metadata: [LogKey.error: "\(error)"])
            await progress(DeployFailure.Step.prune.rawValue, "pruning failed: \(error.localizedDescription)")
        }
        return layout.release(releaseID).path
    }

    /// Links shared paths, hands the tree to the site user, moves it into `releases/` and runs
    /// the build hooks there. A failure removes the release: it never becomes a rollback target.
    /// `staging` is a directory in `.incoming/` (root's, 0711) whose name nobody else can list.
    private func build(
        _ site: HostedSite, staging: String, releaseID: String, layout: SiteLayout, progress: ProgressReporter
    ) async throws {
        let incoming: SiteDirectory
        do {
            incoming = try layout.openIncoming()
        } catch {
            throw DeployFailure(step: .extract, reason: "\(error)")
        }
        do {
            let tree = try incoming.openDirectory(staging)
            if !site.sharedPaths.isEmpty {
                let account = hosting == nil ? nil : SiteAccount.lookup(site.user.rawValue)
                let owner = account.map { (uid: $0.uid, gid: $0.gid) }
                let shared = try layout.openSite().makeDirectories("shared", owner: owner)
                let linked = try SharedPaths.link(site.sharedPaths, release: tree, shared: shared, owner: owner)
                await progress(DeployFailure.Step.link.rawValue, "linked \(linked.joined(separator: ", "))")
            }
            try await hosting?.own(site, tree: tree)
            try tree.setMode(0o755)
            try incoming.rename(staging, to: releaseID, in: layout.openReleases())
        } catch {
            try? incoming.removeTree(staging)
            if let failure = error as? DeployFailure { throw failure }
            throw DeployFailure(step: .link, reason: "\(error)")
        }
        guard let hosting else { return }
        let release = layout.release(releaseID)
        for hook in site.hooks {
            do {
                let tail = try await hosting.run(hook, site: site, release: release, releaseID: releaseID)
                await progress(DeployFailure.Step.hooks.rawValue, "\(hook.name): ok\n\(tail)")
            } catch {
                try? layout.openReleases().removeTree(releaseID)
                throw DeployFailure(step: .hooks, reason: "\(hook.name): \(error)")
            }
        }
    }
}
