/// Log metadata keys, defined once. Values are never secrets.
package enum LogKey {
    package static let agentID = "chom.agent_id"
    package static let siteID = "chom.site_id"
    /// The site logs one rotation pass renamed (`<domain>/<kind>.log …`).
    package static let rotatedLogs = "chom.logs.rotated"
    package static let taskID = "chom.task_id"
    package static let releaseID = "chom.release_id"
    package static let sequence = "chom.sequence"
    package static let refusal = "chom.refusal"
    package static let error = "chom.error"
    package static let path = "chom.path"
    package static let address = "chom.address"
    package static let state = "chom.state"
    package static let attempt = "chom.attempt"
    package static let durationMS = "chom.duration_ms"
    package static let cgroup = "chom.cgroup"
    package static let keyID = "chom.key_id"
    package static let capabilities = "chom.capabilities"
    package static let epoch = "chom.leader.epoch"
    package static let holder = "chom.leader.holder"
    package static let loop = "chom.leader.loop"
    package static let dnsZone = "chom.dns.zone"
    package static let dnsChanges = "chom.dns.changes"
}

extension LogKey {
    /// The W3C trace id of the API request a task came from (`TraceParent`): the name log
    /// pipelines (Loki's derived fields, OpenTelemetry's log correlation) look for.
    package static let traceID = "trace_id"
}
