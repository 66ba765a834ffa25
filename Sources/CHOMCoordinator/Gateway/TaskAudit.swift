import CHOMAudit
import CHOMCore
import CHOMStore
import Foundation

/// The audit entry of a task outcome, written in the transaction that records it.
enum TaskAudit {
    static func outcome(agent: AgentID, now: Date, actor: String? = nil)
        -> @Sendable (TaskRecord, TenantID?, OrganizationID?) -> AuditEntry
    {
        { task, tenant, organization in
            AuditEntry(
                time: now, actor: actor ?? "agent:\(agent)", organizationID: organization?.description,
                tenantID: tenant?.description, action: "task.\(task.state.rawValue)", target: "task:\(task.id)",
                details: [
                    "kind": task.kind.rawValue, "site": task.siteID?.description ?? "",
                    "message": String((task.resultMessage ?? "").prefix(500)),
                ])
        }
    }
}
