import CHOMCore
import Prometheus

extension CoordinatorMetrics {
    /// `chom_coordinator_leader` 1 while this replica leads, and the epoch it leads with
    /// (`chom_coordinator_leader_epoch`, 0 when it does not lead).
    func set(leaderEpoch epoch: Int64?) {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: MetricName.coordinatorLeader, unitName: "", helpText: "1 when this replica leads the fleet")
        ).set(epoch == nil ? 0.0 : 1.0)
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: MetricName.coordinatorLeaderEpoch, unitName: "",
                helpText: "The leadership epoch this replica leads with (0: not leading)")
        ).set(Double(epoch ?? 0))
    }
}
