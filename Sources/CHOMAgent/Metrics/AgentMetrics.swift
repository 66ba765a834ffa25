import CHOMCore
package import Foundation
package import Prometheus

/// The agent's own metrics, in a Prometheus registry owned by the runtime (one per agent, so
/// in-process test agents never share counters). Names come from `CHOMCore.MetricName`; labels
/// are low-cardinality: task kind and outcome, refusal reason, and the site domain.
/// Host series (`host`) and per-site series (`sites`) share the registry.
package final class AgentMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry
    /// CPU, memory, disks, load, network and uptime, re-read from /proc on each `render()`.
    package let host: HostMetrics
    /// Deploys, backups, disk usage and requests per site; executors report to it.
    package let sites: SiteMetrics
    private let streamConnected: Gauge
    private let fenced: Gauge
    private let leaseRemaining: Gauge
    private let reconnects: Counter
    private let residentMemory: Gauge

    /// Outcome label values of `chom_agent_tasks_total`.
    package enum Outcome: String, Sendable, CaseIterable {
        case succeeded
        case failed
        case refused
    }

    package static let refusalReasons = [
        "oversize", "malformed_header", "unknown_key", "bad_signature", "misaddressed", "not_yet_valid", "expired",
        "replayed", "stale", "decompression", "undecodable",
    ]

    package init(siteConfiguration: SiteMetrics.Configuration = SiteMetrics.Configuration()) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        host = HostMetrics(registry: registry)
        sites = SiteMetrics(registry: registry, configuration: siteConfiguration)
        streamConnected = registry.makeGauge(descriptor: Self.descriptor(
            MetricName.agentStreamConnected, "1 while the Connect stream to the coordinator is up, else 0"))
        fenced = registry.makeGauge(descriptor: Self.descriptor(
            MetricName.agentFenced, "1 while this agent's sites answer 503 because its site lease ran out, else 0"))
        leaseRemaining = registry.makeGauge(descriptor: Self.descriptor(
            MetricName.agentLeaseRemaining, "Seconds left on the site lease (-1: no lease, failover is off)"))
        leaseRemaining.set(-1.0)
        reconnects = registry.makeCounter(descriptor: Self.descriptor(
            MetricName.agentReconnects, "Connection attempts after the first one"))
        residentMemory = registry.makeGauge(descriptor: Self.descriptor(
            MetricName.agentResidentMemory, "Resident memory of the agent process in bytes"))
        // Series that exist from the start, so rate() and alerts see zeros rather than gaps.
        for outcome in Outcome.allCases { _ = tasksCounter(kind: TaskKindName.deploy.rawValue, outcome: outcome) }
        for reason in Self.refusalReasons { _ = refusalCounter(reason: reason) }
    }

    package func taskFinished(kind: String, outcome: Outcome) {
        tasksCounter(kind: kind, outcome: outcome).increment()
    }

    package func envelopeRefused(reason: String) {
        refusalCounter(reason: reason).increment()
    }

    package func setStreamConnected(_ connected: Bool) {
        streamConnected.set(connected ? 1.0 : 0.0)
    }

    package func setFenced(_ isFenced: Bool) {
        fenced.set(isFenced ? 1.0 : 0.0)
    }

    /// Seconds left on the site lease; nil when there is none.
    package func setLeaseRemaining(_ seconds: Double?) {
        leaseRemaining.set(seconds.map { max(0, $0) } ?? -1.0)
    }

    package func reconnecting() {
        reconnects.increment()
    }

    /// The exposition body (`text/plain; version=0.0.4`), with resident memory and host series
    /// refreshed and new access log lines counted.
    package func render() -> [UInt8] {
        host.refresh()
        sites.collect()
        if let bytes = HostFactsReader.residentMemoryBytes() { residentMemory.set(Double(bytes)) }
        return registry.emitToBuffer()
    }

    package func text() -> String {
        String(decoding: render(), as: UTF8.self)
    }

    private func tasksCounter(kind: String, outcome: Outcome) -> Counter {
        registry.makeCounter(
            descriptor: Self.descriptor(MetricName.agentTasks, "Tasks executed, by kind and outcome"),
            labels: [("kind", kind), ("outcome", outcome.rawValue)])
    }

    private func refusalCounter(reason: String) -> Counter {
        registry.makeCounter(
            descriptor: Self.descriptor(MetricName.agentEnvelopeRefusals, "Envelopes refused, by reason"),
            labels: [("reason", reason)])
    }

    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
