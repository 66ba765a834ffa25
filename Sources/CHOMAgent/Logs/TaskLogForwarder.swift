package import CHOMCore
package import CHOMProtocol
import Foundation

/// The task half of log forwarding: each site task's lines (accepted, every progress step, the
/// outcome) go into the forwarder's bounded buffer as `task` syslog messages, with the site, its
/// tenant, the task id and the trace id the envelope carried. Appending never blocks the task: a
/// full buffer drops its oldest line and counts it.
///
/// The site and tenant come from the task itself (signed by the coordinator), else from the site
/// records; a task that names no site or tenant (a ping), and a log read, are not forwarded. The text is the agent's own
/// words plus the step names and the result message, which may quote a build hook's output: that
/// is tenant text, cleaned of control characters like every forwarded line (`SyslogMessage`).
package struct TaskLogForwarder: Sendable {
    private let buffer: LogForwardBuffer
    private let records: SiteRecordStore
    private let agent: String
    private let hostname: String

    package init(buffer: LogForwardBuffer, records: SiteRecordStore, agent: String, hostname: String = ProcessInfo.processInfo.hostName) {
        self.buffer = buffer
        self.records = records
        self.agent = agent
        self.hostname = hostname
    }

    /// The lines of one task: its site, tenant and trace resolved once, for every line it sends;
    /// nil when the task is not forwarded (no site or tenant, or a log read).
    package func lines(for task: Chom_Agent_V1_Task, trace: TraceParent?) -> Lines? {
        guard let (domain, tenant) = site(of: task) else { return nil }
        return Lines(
            buffer: buffer,
            template: SyslogMessage(
                kind: .task, site: domain, tenant: tenant, agent: agent, hostname: hostname, time: Date(), task: task.taskID,
                traceID: trace?.traceID, text: ""))
    }

    package struct Lines: Sendable {
        fileprivate let buffer: LogForwardBuffer
        fileprivate let template: SyslogMessage

        package func accepted(kind: String) {
            append(failed: false, text: "task \(kind) accepted")
        }

        package func step(_ step: String) {
            append(failed: false, text: "step \(step)")
        }

        package func finished(kind: String, failed: Bool, outcome: String, message: String) {
            append(failed: failed, text: message.isEmpty ? "task \(kind) \(outcome)" : "task \(kind) \(outcome): \(message)")
        }

        private func append(failed: Bool, text: String) {
            var message = template
            message.time = Date()
            message.failed = failed
            message.text = text
            buffer.append(message)
        }
    }

    /// The task's site domain and tenant ("-" when neither the task nor a record names one).
    private func site(of task: Chom_Agent_V1_Task) -> (String, String)? {
        let config: Chom_Agent_V1_SiteConfig?
        var domain: String?
        switch task.kind {
        case .deploy(let deploy):
            config = deploy.hasSite ? deploy.site : nil
            domain = deploy.domain
        case .configure(let task): config = task.site
        case .rollback(let task): config = task.site
        case .suspend(let task): config = task.site
        case .backup(let task): config = task.site
        case .restore(let task): config = task.site
        case .verifyBackup(let task): config = task.site
        case .pruneBackups(let task): config = task.site
        case .remove(let task): config = task.site
        // A log read is a read (audited by the coordinator), not work on the site: forwarding its
        // lines would let a member who reads logs in a loop crowd other sites out of the buffer.
        case .readSiteLogs, .ping, nil: return nil
        }
        if let config, !config.domain.isEmpty { domain = config.domain }
        guard let domain, !domain.isEmpty else { return nil }
        if let tenant = config?.tenantID, !tenant.isEmpty { return (domain, tenant) }
        // Like the sites' own logs: a site with no known tenant is not forwarded.
        guard let tenant = records.byDomain()[domain]?.tenantID, !tenant.isEmpty else { return nil }
        return (domain, tenant)
    }
}
