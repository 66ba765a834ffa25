import ServiceLifecycle

/// Keeps `chom_site_disk_bytes` fresh: every `period`, walks the site trees whose figure is
/// older than `SiteMetrics.Configuration.diskUsageInterval`. Walking blocks its thread for as
/// long as the trees take, which is why it runs here and never on a scrape.
package struct SiteDiskUsageRefresher: Service {
    private let sites: SiteMetrics
    private let period: Duration

    package init(sites: SiteMetrics, period: Duration = .seconds(60)) {
        self.sites = sites
        self.period = period
    }

    package func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            sites.refreshDiskUsage(now: .now)
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: period) }
            } catch {
                return  // Cancelled or shutting down.
            }
        }
    }
}
