import CHOMCore
import CHOMStore
import Foundation
import Prometheus
import Synchronization

/// Gauge families whose series follow a set that changes (agents, scheduled sites): each refresh
/// sets the current label sets and unregisters the series of those gone, so a deleted agent or a
/// removed site leaves no series behind to alert on.
final class GaugeFamilies: Sendable {
    private let registry: PrometheusCollectorRegistry
    /// By metric name, then by the label values joined.
    private let gauges = Mutex<[String: [String: Gauge]]>([:])

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func replace(_ name: String, help: String, with series: [(labels: [(String, String)], value: Double)]) {
        gauges.withLock { gauges in
            var current: [String: Gauge] = [:]
            var previous = gauges[name] ?? [:]
            for (labels, value) in series {
                let key = labels.map { "\($0.0)=\($0.1)" }.joined(separator: "\u{1F}")
                let gauge = previous.removeValue(forKey: key) ?? registry.makeGauge(
                    descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
                gauge.set(value)
                current[key] = gauge
            }
            for gauge in previous.values { registry.unregisterGauge(gauge) }
            gauges[name] = current
        }
    }
}

/// The gauges the alert rules in coordinator-config/alerts read. Every replica sets the ones read
/// from the database (`FleetGaugesService`); the leader sets the audit self-check's.
extension CoordinatorMetrics {
    /// One series per agent and verdict, 1 for the agent's current one (online, suspect, offline).
    func set(agentVerdicts agents: [AlertGaugeQueries.AgentHealth]) {
        var series: [(labels: [(String, String)], value: Double)] = []
        for agent in agents {
            for health in ["online", "suspect", "offline"] {
                series.append((
                    [("chom_agent_id", agent.agentID.description), ("chom_agent_name", agent.name), ("health", health)],
                    agent.health == health ? 1 : 0))
            }
        }
        families.replace(
            MetricName.coordinatorAgentHealthState, help: "1 for each agent's failure-detector verdict", with: series)
    }

    /// The oldest task's age per unfinished state; 0 for a state with no task.
    func set(oldestTaskAges ages: [TaskState: Double]) {
        families.replace(
            MetricName.coordinatorTaskOldestAge, help: "Age of the oldest task in each unfinished state",
            with: TaskState.allCases.filter { !$0.isFinal }.map { ([("state", $0.rawValue)], ages[$0] ?? 0) })
    }

    /// Each scheduled site's backup interval, backup age and verification age.
    func set(siteBackups sites: [AlertGaugeQueries.SiteBackups]) {
        func labels(_ site: AlertGaugeQueries.SiteBackups) -> [(String, String)] {
            [("site", site.domain), ("tenant", site.tenantID.description)]
        }
        families.replace(
            MetricName.coordinatorSiteBackupInterval, help: "The site's backup schedule interval",
            with: sites.map { (labels($0), $0.intervalSeconds) })
        families.replace(
            MetricName.coordinatorSiteBackupAge,
            help: "Seconds since the site's newest succeeded backup (or since its schedule was set, if later)",
            with: sites.map { (labels($0), $0.ageSeconds) })
        families.replace(
            MetricName.coordinatorSiteBackupVerificationAge,
            help: "Seconds since the site's newest verified backup (or its first backup, if none was verified)",
            with: sites.compactMap { site in site.verificationAgeSeconds.map { (labels(site), $0) } })
    }

    /// The audit self-check's outcome (leader only).
    func auditVerified(intact: Bool, entries: Int, at date: Date) {
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help))
        }
        gauge(MetricName.coordinatorAuditChainIntact, "1 if the last audit self-check found the chain intact, else 0")
            .set(Double(intact ? 1 : 0))
        gauge(MetricName.coordinatorAuditChainEntries, "Entries the last audit self-check verified").set(Double(entries) as Double)
        gauge(MetricName.coordinatorAuditChainVerifiedAt, "Unix time of the last audit self-check")
            .set(date.timeIntervalSince1970)
    }
}
