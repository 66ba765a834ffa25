import CHOMCore
import Foundation
import Prometheus

/// The series of one site, all labelled `site` and `tenant`. Counters exist from registration
/// (so `rate()` sees zeros, not gaps); gauges appear with their first value, so a site that
/// never had a backup has no backup timestamp rather than a misleading 1970.
struct SiteSeries: Sendable {
    /// The site's single-valued gauges, each with its name and help text defined once (the
    /// registry refuses one name with two help texts).
    enum Slot: Sendable, CaseIterable {
        case diskBytes, lastDeploy, lastDeploySuccess, lastBackup, lastBackupSize, lastBackupDuration
        case lastVerifiedBackup, up, probeDuration, certificateExpiry

        var name: String {
            switch self {
            case .diskBytes: MetricName.siteDiskBytes
            case .lastDeploy: MetricName.siteLastDeploy
            case .lastDeploySuccess: MetricName.siteLastDeploySuccess
            case .lastBackup: MetricName.siteLastBackup
            case .lastBackupSize: MetricName.siteLastBackupSize
            case .lastBackupDuration: MetricName.siteLastBackupDuration
            case .lastVerifiedBackup: MetricName.siteLastVerifiedBackup
            case .up: MetricName.siteUp
            case .probeDuration: MetricName.siteProbeDuration
            case .certificateExpiry: MetricName.siteCertificateExpiry
            }
        }

        var help: String {
            switch self {
            case .diskBytes: "Bytes allocated under the site's directory tree"
            case .lastDeploy: "Unix time the last deploy of the site finished"
            case .lastDeploySuccess: "1 if the last deploy of the site succeeded, else 0"
            case .lastBackup: "Unix time of the last successful backup of the site"
            case .lastBackupSize: "Size in bytes of the last successful backup of the site"
            case .lastBackupDuration: "Seconds the last successful backup of the site took"
            case .lastVerifiedBackup: "Unix time of the last verified backup of the site"
            case .up: "1 if the agent's last health probe of the site got the expected status, else 0"
            case .probeDuration: "Seconds the agent's last health probe of the site took"
            case .certificateExpiry: "Unix time the site's certificate chain stops being valid"
            }
        }
    }

    let tenant: String
    let labels: [(String, String)]
    var tree: URL?
    var diskMeasuredAt: ContinuousClock.Instant?
    /// The last measured disk usage, for billing's storage meter.
    var diskBytes: UInt64?
    private var deploys: [SiteMetrics.DeployResult: Counter] = [:]
    private var release: (id: String, gauge: Gauge)?
    private var gauges: [Slot: Gauge] = [:]

    init(site: String, tenant: String, tree: URL?, registry: PrometheusCollectorRegistry) {
        self.tenant = tenant
        self.tree = tree
        labels = [("site", site), ("tenant", tenant)]
        for result in SiteMetrics.DeployResult.allCases {
            deploys[result] = registry.counter(
                MetricName.siteDeploys, help: "Deploys of the site by result", labels: labels + [("result", result.rawValue)])
        }
    }

    func deployed(_ result: SiteMetrics.DeployResult) {
        deploys[result]?.increment()
    }

    /// Points `chom_site_release_info` at `id`, removing the previous release's series.
    mutating func setRelease(_ id: String, in registry: PrometheusCollectorRegistry) {
        guard release?.id != id else { return }
        if let old = release { registry.unregisterGauge(old.gauge) }
        let gauge = registry.gauge(
            MetricName.siteReleaseInfo, help: "1 for the release serving the site", labels: labels + [("release", id)])
        gauge.set(to: 1)
        release = (id, gauge)
    }

    /// Sets the gauge in `slot`, creating its series on first use.
    mutating func set(_ slot: Slot, to value: Double, in registry: PrometheusCollectorRegistry) {
        let gauge = gauges[slot] ?? registry.gauge(slot.name, help: slot.help, labels: labels)
        gauges[slot] = gauge
        gauge.set(to: value)
    }

    /// Removes the gauge in `slot`, if it has a series.
    mutating func clear(_ slot: Slot, in registry: PrometheusCollectorRegistry) {
        if let gauge = gauges.removeValue(forKey: slot) { registry.unregisterGauge(gauge) }
    }

    /// Removes every series of the site from `registry`.
    func unregister(from registry: PrometheusCollectorRegistry) {
        deploys.values.forEach(registry.unregisterCounter)
        gauges.values.forEach(registry.unregisterGauge)
        if let release { registry.unregisterGauge(release.gauge) }
    }
}
