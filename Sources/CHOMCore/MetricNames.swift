/// Metric names, defined once (Prometheus naming: unit suffixes, `_total` for counters).
package enum MetricName {
    // Agent
    package static let agentTasks = "chom_agent_tasks_total"
    package static let agentEnvelopeRefusals = "chom_agent_envelope_refusals_total"
    package static let agentStreamConnected = "chom_agent_stream_connected"
    package static let agentFenced = "chom_agent_fenced"
    package static let agentLeaseRemaining = "chom_agent_site_lease_remaining_seconds"
    package static let agentReconnects = "chom_agent_reconnects_total"
    package static let agentResidentMemory = "chom_agent_resident_memory_bytes"
    // Coordinator
    package static let coordinatorAgents = "chom_coordinator_agents"
    package static let coordinatorTasksQueued = "chom_coordinator_tasks_queued"
    package static let coordinatorTasksDispatched = "chom_coordinator_tasks_dispatched_total"
    package static let coordinatorTaskResults = "chom_coordinator_task_results_total"
    package static let coordinatorStreams = "chom_coordinator_agent_streams"
    package static let coordinatorAuditPending = "chom_coordinator_audit_pending_entries"
    package static let coordinatorHTTPRequests = "chom_coordinator_http_requests_total"
    package static let coordinatorLeader = "chom_coordinator_leader"
    package static let coordinatorLeaderEpoch = "chom_coordinator_leader_epoch"
    package static let coordinatorAgentHealth = "chom_coordinator_agent_health"
    package static let coordinatorAgentHealthTransitions = "chom_coordinator_agent_health_transitions_total"
    package static let coordinatorFailureDetection = "chom_coordinator_agent_failure_detection_seconds"
    package static let coordinatorFailovers = "chom_coordinator_failovers_total"
    package static let coordinatorFailoverRecoveryTime = "chom_coordinator_failover_recovery_time_seconds"
    package static let coordinatorFailoverRecoveryPoint = "chom_coordinator_failover_recovery_point_seconds"
}
