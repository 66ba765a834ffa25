import CHOMCore
package import Prometheus

/// The coordinator's metrics, in a registry owned by the coordinator instance (so that
/// several coordinators in one test process do not share counters). Labels are low-cardinality.
package final class CoordinatorMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry
    /// Gauges whose label sets come and go with the fleet (one per agent, one per scheduled site).
    let families: GaugeFamilies

    package init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        families = GaugeFamilies(registry: registry)
    }

    func taskDispatched(kind: String) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: MetricName.coordinatorTasksDispatched, unitName: "", helpText: "Envelopes sent to agents"),
            labels: [("kind", kind)]
        ).increment()
    }

    func taskFinished(kind: String, outcome: String) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: MetricName.coordinatorTaskResults, unitName: "", helpText: "Task outcomes"),
            labels: [("kind", kind), ("outcome", outcome)]
        ).increment()
    }

    func httpRequest(method: String, route: String, status: Int) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: MetricName.coordinatorHTTPRequests, unitName: "", helpText: "Admin API requests"),
            labels: [("method", method), ("route", route), ("status", String(status))]
        ).increment()
    }

    func set(streams: Int) {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: MetricName.coordinatorStreams, unitName: "", helpText: "Agent streams held by this replica")
        ).set(Double(streams))
    }

    /// Audit entries committed with their change and not yet hash-chained (`audit_pending`). Above
    /// zero for long, chaining fails: the changes are durable, their entries not yet linked.
    func set(auditPending: Int) {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: MetricName.coordinatorAuditPending, unitName: "",
                helpText: "Audit entries staged with their change and not yet chained")
        ).set(Double(auditPending))
    }

    func set(agents: [AgentState: Int]) {
        for state in AgentState.allCases {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(metricName: MetricName.coordinatorAgents, unitName: "", helpText: "Agents by state"),
                labels: [("state", state.rawValue)]
            ).set(Double(agents[state] ?? 0))
        }
    }

    func set(tasks: [TaskState: Int]) {
        for state in TaskState.allCases {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    metricName: MetricName.coordinatorTasksQueued, unitName: "", helpText: "Tasks in the durable queue by state"),
                labels: [("state", state.rawValue)]
            ).set(Double(tasks[state] ?? 0))
        }
    }

    /// The failure detector's verdicts (leader only: other replicas do not set them).
    func set(agentHealth: [String: Int]) {
        for health in ["online", "suspect", "offline"] {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    metricName: MetricName.coordinatorAgentHealth, unitName: "",
                    helpText: "Agents by the failure detector's verdict"),
                labels: [("health", health)]
            ).set(Double(agentHealth[health] ?? 0))
        }
    }

    func agentHealthChanged(from: String, to: String) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: MetricName.coordinatorAgentHealthTransitions, unitName: "",
                helpText: "Failure detector transitions"),
            labels: [("from", from), ("to", to)]
        ).increment()
    }

    /// From an agent's last heartbeat to its being declared failed.
    func agentFailureDetected(after seconds: Double) {
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(metricName: MetricName.coordinatorFailureDetection, unitName: "", helpText: "Silence of an agent when it was declared failed"),
            labels: [], buckets: [5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600].map { Duration.seconds($0) }
        ).recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    /// A site's failover ended: its outcome, and when it succeeded its recovery time (failed →
    /// serving) and recovery point (the restored backup's age at the failure).
    func failoverFinished(succeeded: Bool, recoveryTime: Double?, recoveryPoint: Double?) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: MetricName.coordinatorFailovers, unitName: "", helpText: "Site failovers by outcome"),
            labels: [("outcome", succeeded ? "succeeded" : "failed")]
        ).increment()
        guard succeeded else { return }
        if let recoveryTime {
            registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(metricName: MetricName.coordinatorFailoverRecoveryTime, unitName: "", helpText: "From an agent declared failed to its site serving elsewhere"),
                labels: [], buckets: [10, 30, 60, 120, 300, 600, 1800, 3600].map { Duration.seconds($0) }
            ).recordNanoseconds(Int64(max(0, recoveryTime) * 1e9))
        }
        if let recoveryPoint {
            registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(metricName: MetricName.coordinatorFailoverRecoveryPoint, unitName: "", helpText: "Age of the backup a failed-over site was restored from"),
                labels: [], buckets: [60, 600, 3600, 6 * 3600, 24 * 3600, 7 * 24 * 3600].map { Duration.seconds($0) }
            ).recordNanoseconds(Int64(max(0, recoveryPoint) * 1e9))
        }
    }

    package func exposition() -> String {
        registry.emitToString()
    }
}
