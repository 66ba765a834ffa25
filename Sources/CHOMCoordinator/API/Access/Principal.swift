package import CHOMCore
package import CHOMStore

/// The authenticated caller of one request: user, token, and what their memberships reach.
package struct Principal: Sendable {
    package let user: UserRecord
    package let token: StoredToken
    package let memberships: [MembershipRecord]
    package let grants: [TenantGrant]

    package var isOperator: Bool { user.isOperator }
    package var actor: String { "user:\(user.id)" }

    package func role(in organization: OrganizationID) -> OrganizationRole? {
        memberships.first { $0.organizationID == organization }?.role
    }

    /// Whether any membership reaches `minimum` (the first gate of a membership route).
    package func hasAnyRole(atLeast minimum: OrganizationRole) -> Bool {
        isOperator || memberships.contains { $0.role.isAtLeast(minimum) }
    }

    /// Tenants reachable with at least `minimum`; the fleet for operators.
    package func scope(atLeast minimum: OrganizationRole) -> TenantScope {
        if isOperator { return .fleet }
        return TenantScope(tenants: grants.filter { $0.role.isAtLeast(minimum) }.map(\.tenantID))
    }

    /// Organizations where the caller has at least `minimum`; nil (all) for operators.
    package func organizations(atLeast minimum: OrganizationRole) -> [OrganizationID]? {
        if isOperator { return nil }
        return memberships.filter { $0.role.isAtLeast(minimum) }.map(\.organizationID)
    }

    /// For a route that names an organization: 404 unless the caller belongs to it (a foreign
    /// organization looks exactly like a missing one), 403 when the role is too weak.
    package func require(_ minimum: OrganizationRole, in organization: OrganizationID) throws {
        if isOperator { return }
        guard let role = role(in: organization) else { throw CHOMError(.notFound, "no organization \(organization)") }
        guard role.isAtLeast(minimum) else {
            throw CHOMError(.forbidden, "this needs the \(minimum.rawValue) role or stronger")
        }
    }

    /// For a route that names a tenant (or a site in one): 404 unless the caller reaches it, 403 when the role is too weak.
    package func require(_ minimum: OrganizationRole, inTenant tenant: TenantID) throws {
        if isOperator { return }
        let roles = grants.filter { $0.tenantID == tenant }.map(\.role)
        guard let best = roles.max() else { throw CHOMError(.notFound, "no tenant \(tenant)") }
        guard best.isAtLeast(minimum) else {
            throw CHOMError(.forbidden, "this needs the \(minimum.rawValue) role or stronger")
        }
    }
}
