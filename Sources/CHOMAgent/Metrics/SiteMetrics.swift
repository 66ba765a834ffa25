package import Foundation
package import Prometheus
import Synchronization

/// Per-site series in the agent's registry, labelled `site` (the domain) and `tenant` only:
/// deploys, backups, disk usage and request classes from the nginx access log.
///
/// Executors report events (`deployFinished`, `backupSucceeded`, `backupVerified`); the agent
/// registers each hosted site at start and after its first deploy (`register`) and drops it when
/// the site is deleted (`siteRemoved`). The `/metrics` handler calls `collect()` before rendering
/// to count new access log lines; `SiteDiskUsageRefresher` walks site trees in the background.
/// Event values live in memory: they start empty when the agent restarts.
package final class SiteMetrics: Sendable {
    package struct Configuration: Sendable {
        /// How long a site's disk usage is kept before its tree is walked again.
        package var diskUsageInterval: Duration = .seconds(600)
        /// Entries walked per site before giving up (the figure is then a lower bound).
        package var maxDiskEntries = 1_000_000
        /// Access log bytes read per site per scrape; more waits for the next scrape.
        package var maxLogBytesPerScrape = 8 << 20

        package init() {}
    }

    /// The `result` label of `chom_site_deploys_total`.
    package enum DeployResult: String, Sendable, CaseIterable {
        case succeeded
        case failed
        case rolledBack = "rolled_back"
    }

    package let configuration: Configuration
    private let registry: PrometheusCollectorRegistry
    private let sites = Mutex<[String: SiteSeries]>([:])
    /// Apart from `sites`, so reading logs on a scrape never holds up an executor's report.
    private let logs = Mutex<[String: SiteRequestLog]>([:])

    package init(registry: PrometheusCollectorRegistry, configuration: Configuration = Configuration()) {
        self.registry = registry
        self.configuration = configuration
    }

    /// Starts watching a site: its tree (`<sitesRoot>/<domain>`) for disk usage and its access
    /// log, followed from its current end. Registering again updates the paths; a new tenant
    /// replaces all the site's series.
    package func register(site: String, tenant: String, tree: URL?, accessLog: URL?) {
        modify(site: site, tenant: tenant) { $0.tree = tree }
        logs.withLock { logs in
            if let current = logs[site], current.tenant == tenant, current.path == accessLog?.path { return }
            logs[site]?.unregister(from: registry)
            logs[site] = accessLog.map { log in
                SiteRequestLog(
                    path: log.path, tenant: tenant, labels: [("site", site), ("tenant", tenant)],
                    maxBytesPerPoll: configuration.maxLogBytesPerScrape, registry: registry)
            }
        }
    }

    /// Records a finished deploy. `release` is the release serving the site *now* (the new one
    /// after success, the previous one after a rollback, nil when unknown or unchanged); the
    /// `chom_site_release_info` series moves to it.
    package func deployFinished(site: String, tenant: String, release: String?, result: DeployResult, at date: Date) {
        modify(site: site, tenant: tenant) { series in
            series.deployed(result)
            series.set(.lastDeploy, to: date.timeIntervalSince1970, in: registry)
            series.set(.lastDeploySuccess, to: result == .succeeded ? 1 : 0, in: registry)
            if let release { series.setRelease(release, in: registry) }
        }
    }

    package func backupSucceeded(site: String, tenant: String, at date: Date, bytes: UInt64, duration: Duration) {
        let seconds = duration.secondsValue
        modify(site: site, tenant: tenant) { series in
            series.set(.lastBackup, to: date.timeIntervalSince1970, in: registry)
            series.set(.lastBackupSize, to: Double(bytes), in: registry)
            series.set(.lastBackupDuration, to: seconds, in: registry)
        }
    }

    /// Records a backup restored and checked (`date`: when the verification finished).
    package func backupVerified(site: String, tenant: String, at date: Date) {
        modify(site: site, tenant: tenant) { series in
            series.set(.lastVerifiedBackup, to: date.timeIntervalSince1970, in: registry)
        }
    }

    /// Records a health probe (`SiteProbeService`): `up` and how long it took. A nil `probe` (a
    /// suspended site) removes both series; a nil `certificateExpiry` removes the certificate's.
    package func probed(site: String, tenant: String, probe: (up: Bool, seconds: Double)?, certificateExpiry: Date?) {
        modify(site: site, tenant: tenant) { series in
            if let probe {
                series.set(.up, to: probe.up ? 1 : 0, in: registry)
                series.set(.probeDuration, to: probe.seconds, in: registry)
            } else {
                series.clear(.up, in: registry)
                series.clear(.probeDuration, in: registry)
            }
            if let certificateExpiry {
                series.set(.certificateExpiry, to: certificateExpiry.timeIntervalSince1970, in: registry)
            } else {
                series.clear(.certificateExpiry, in: registry)
            }
        }
    }

    /// Removes the probe's series of a site no longer probed (its record is gone), if it still has them.
    package func probeEnded(site: String) {
        sites.withLock { sites in
            for slot in [SiteSeries.Slot.up, .probeDuration, .certificateExpiry] { sites[site]?.clear(slot, in: registry) }
        }
    }

    /// Drops every series of the site.
    package func siteRemoved(site: String) {
        sites.withLock { $0.removeValue(forKey: site) }?.unregister(from: registry)
        logs.withLock { $0.removeValue(forKey: site) }?.unregister(from: registry)
    }

    /// Counts access log lines appended since the last scrape. Called by the `/metrics` handler.
    package func collect() {
        logs.withLock { logs in
            for site in Array(logs.keys) { logs[site]?.poll() }
        }
    }

    /// Reads the access logs (as a scrape does) and returns each site's response body bytes read
    /// since the last call, by domain: billing's bandwidth meter (`UsageMeter`).
    package func takeBandwidth() -> [String: UInt64] {
        logs.withLock { logs in
            var taken: [String: UInt64] = [:]
            for site in Array(logs.keys) {
                logs[site]?.poll()
                if let bytes = logs[site]?.takeBodyBytes(), bytes > 0 { taken[site] = bytes }
            }
            return taken
        }
    }

    /// The sites watched, by domain, with their last measured disk usage (nil: not measured yet).
    package func diskUsage() -> [String: UInt64?] {
        sites.withLock { sites in sites.mapValues { $0.diskBytes } }
    }

    /// Walks the trees whose disk usage is older than `configuration.diskUsageInterval` (or was
    /// never measured) and returns how many it walked. Slow: call it off the scrape path.
    @discardableResult
    package func refreshDiskUsage(now: ContinuousClock.Instant) -> Int {
        let due = sites.withLock { sites in
            var due: [(site: String, tenant: String, tree: URL)] = []
            for (site, series) in sites {
                guard let tree = series.tree else { continue }
                if let measured = series.diskMeasuredAt, measured.duration(to: now) < configuration.diskUsageInterval {
                    continue
                }
                sites[site]?.diskMeasuredAt = now
                due.append((site, series.tenant, tree))
            }
            return due
        }
        for (site, tenant, tree) in due {
            guard let usage = DiskUsage.measure(tree.path, maxEntries: configuration.maxDiskEntries) else { continue }
            sites.withLock { sites in
                // The site may have been removed or moved while its tree was walked.
                guard sites[site]?.tenant == tenant, sites[site]?.tree == tree else { return }
                sites[site]?.set(.diskBytes, to: Double(usage.bytes), in: registry)
                sites[site]?.diskBytes = UInt64(usage.bytes)
            }
        }
        return due.count
    }

    /// Applies `body` to the site's series, creating them (or replacing them, for a new tenant).
    private func modify(site: String, tenant: String, _ body: (inout SiteSeries) -> Void) {
        sites.withLock { sites in
            var series = sites[site] ?? SiteSeries(site: site, tenant: tenant, tree: nil, registry: registry)
            if series.tenant != tenant {
                series.unregister(from: registry)
                series = SiteSeries(site: site, tenant: tenant, tree: series.tree, registry: registry)
            }
            body(&series)
            sites[site] = series
        }
    }
}
