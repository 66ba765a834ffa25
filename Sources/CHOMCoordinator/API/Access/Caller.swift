import CHOMAudit
import CHOMCore
import Foundation

/// What a route handler knows about the request beyond its body: who calls (nil on open
/// routes), and how to word an audit entry for it.
struct Caller: Sendable {
    let principal: Principal?
    let requestID: String
    let sourceAddress: String
    let now: Date

    /// The principal of an authenticated route (AccessControl guarantees one).
    var signedIn: Principal {
        get throws {
            guard let principal else { throw CHOMError(.unauthorized, "sign in first") }
            return principal
        }
    }

    var actor: String { principal?.actor ?? "anonymous" }

    func audit(
        _ action: String, target: String, organization: OrganizationID? = nil, tenant: TenantID? = nil,
        actor: String? = nil, details: [String: String] = [:]
    ) -> AuditEntry {
        AuditEntry(
            time: now, actor: actor ?? self.actor, organizationID: organization?.description,
            tenantID: tenant?.description, action: action, target: target, requestID: requestID,
            sourceAddress: sourceAddress, details: details)
    }
}
