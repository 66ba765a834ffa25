package import CHOMCore
package import CHOMProtocol
package import Foundation
package import Logging

/// Site tasks other than deploys and backups: configure (create or update), roll back to the
/// previous or a named release, suspend and resume.
package struct SiteTaskExecutor: Sendable {
    package var sitesRoot: URL
    package var hosting: any SiteHosting
    package var metrics: AgentMetrics?
    package var clock: any WallClock
    package var logger: Logger
    /// nginx's per-site logs (`HostingConfiguration.logsDirectory`); nil: logs cannot be read.
    package var logsDirectory: URL?

    package init(
        sitesRoot: URL, hosting: any SiteHosting, metrics: AgentMetrics? = nil, clock: any WallClock, logger: Logger,
        logsDirectory: URL? = nil
    ) {
        self.logsDirectory = logsDirectory
        self.sitesRoot = sitesRoot
        self.hosting = hosting
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
    }

    package func configure(_ task: Chom_Agent_V1_ConfigureSiteTask, progress: ProgressReporter) async -> ExecutionResult {
        await run(task.site, progress: progress) { site, layout in
            try layout.prepare()
            try await hosting.configure(site, layout: layout)
            await progress("configure", "user \(site.user), tree, nginx server block checked and loaded")
            if layout.currentRelease() != nil { try await hosting.activate(site, layout: layout) }
            return "site \(site.domain) configured (\(site.kind.rawValue))"
        }
    }

    package func suspend(_ task: Chom_Agent_V1_SuspendSiteTask, progress: ProgressReporter) async -> ExecutionResult {
        var config = task.site
        config.suspended = task.suspended
        return await run(config, progress: progress) { site, layout in
            try layout.prepare()
            try await hosting.configure(site, layout: layout)
            if !site.suspended, layout.currentRelease() != nil { try await hosting.activate(site, layout: layout) }
            return site.suspended ? "site \(site.domain) suspended: every request answers 503" : "site \(site.domain) resumed"
        }
    }

    /// Points `current` at the named release, or the one before the current; checks health and
    /// goes back when the check fails.
    package func rollback(_ task: Chom_Agent_V1_RollbackTask, progress: ProgressReporter) async -> ExecutionResult {
        var live = ""
        var result = await run(task.site, progress: progress) { site, layout in
            let target: String
            if task.releaseID.isEmpty {
                guard let previous = try layout.previousRelease() else {
                    throw CHOMError(.conflict, "there is no earlier release of \(site.domain) on this agent")
                }
                target = previous
            } else {
                guard let uuid = UUID(uuidString: task.releaseID) else {
                    throw CHOMError(.invalidInput, "release id \"\(task.releaseID.prefix(64))\" is not a UUID")
                }
                target = uuid.uuidString.lowercased()
            }
            guard layout.hasRelease(target) else {
                throw CHOMError(.notFound, "release \(target) is not on this agent (kept: \(try layout.releasesNewestFirst().joined(separator: ", ")))")
            }
            do {
                try await layout.goLive(target, site: site, hosting: hosting, progress: progress)
            } catch let failure as GoLiveFailure {
                live = layout.currentRelease() ?? ""
                throw CHOMError(.unavailable, "release \(target) failed its \(failure.step.rawValue) step (\(failure))")
            }
            live = target
            metrics?.sites.deployFinished(site: site.domain, tenant: site.tenantID, release: target, result: .succeeded, at: clock.now())
            return "release \(target) is live on \(site.domain)"
        }
        result.report.releaseID = live
        if result.outcome == .succeeded { result.releasePath = SiteLayout(sitesRoot: sitesRoot, domain: task.site.domain).release(live).path }
        return result
    }

    /// Validates the site, runs `body`, and turns errors into a failed (or refused) result.
    func run(
        _ config: Chom_Agent_V1_SiteConfig, progress: ProgressReporter,
        _ body: (HostedSite, SiteLayout) async throws -> String
    ) async -> ExecutionResult {
        let site: HostedSite
        do {
            site = try HostedSite(config)
        } catch {
            return ExecutionResult(outcome: .refused, message: error.message)
        }
        let layout = SiteLayout(sitesRoot: sitesRoot, domain: site.domain)
        do {
            return ExecutionResult(outcome: .succeeded, message: try await body(site, layout))
        } catch {
            logger.warning("site task failed", metadata: [LogKey.error: "\(error)", LogKey.siteID: "\(site.siteID)"])
            return ExecutionResult(outcome: .failed, message: "\(error)")
        }
    }
}
