import CHOMAudit
import CHOMCore
import CHOMStore
import Foundation

/// The audit entry of a task outcome, written in the transaction that records it.
///
/// A log read that succeeded has none: the request that asked for it is its audit entry
/// (`site.logs.read`, or `site.logs.follow` for each read of a follow), and a follow polling every
/// few seconds would otherwise add two entries per poll. A log read that failed keeps its entry,
/// as every other task outcome.
enum TaskAudit {
    static func outcome(agent: AgentID, now: Date, actor: String? = nil)
        -> @Sendable (TaskRecord, TenantID?, OrganizationID?) -> AuditEntry?
    {
        { task, tenant, organization in
            if task.kind == .readSiteLogs, task.state == .succeeded { return nil }
            return AuditEntry(
                time: now, actor: actor ?? "agent:\(agent)", organizationID: organization?.description,
                tenantID: tenant?.description, action: "task.\(task.state.rawValue)", target: "task:\(task.id)",
                details: [
                    "kind": task.kind.rawValue, "site": task.siteID?.description ?? "",
                    "message": String((task.resultMessage ?? "").prefix(500)),
                ])
        }
    }
}
