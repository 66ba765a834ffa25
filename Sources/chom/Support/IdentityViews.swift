import CHOMAPI
import Foundation

/// Table and text views shared by the identity commands.
enum IdentityViews {
    /// The user's details, then their memberships (`chom me`, `chom invitations accept`).
    /// `organizationNames` labels organization IDs where known.
    static func me(_ me: MeResponse, organizationNames: [String: String] = [:], now: Date = Date()) -> String {
        let user = me.user
        let details = Table.keyValue([
            ("ID", user.id), ("Email", user.email), ("Name", Format.orDash(user.displayName)),
            ("Operator", user.isOperator ? "yes (sees and manages the whole fleet)" : "no"),
            ("Two-factor", user.twoFactorEnabled ? "on" : "off (turn it on with `chom 2fa enable`)"),
            ("Created", Format.timestamp(user.createdAt, now: now)),
        ])
        guard !me.memberships.isEmpty else { return details.render() + "\n\nMemberships: none" }
        var table = Table(headers: ["ORGANIZATION", "ROLE", "TENANTS", "SINCE"])
        for membership in me.memberships.sorted(by: { $0.organizationId < $1.organizationId }) {
            let organization =
                organizationNames[membership.organizationId].map { "\($0) (\(Format.shortID(membership.organizationId)))" }
                ?? membership.organizationId
            table.append([
                organization, membership.role, tenants(membership.tenantIds), Format.relative(membership.createdAt, now: now),
            ])
        }
        return details.render() + "\n\n" + table.render()
    }

    /// "all" for no restriction, else the short tenant IDs.
    static func tenants(_ ids: [String]) -> String {
        ids.isEmpty ? "all" : ids.map { Format.shortID($0) }.joined(separator: ",")
    }

    /// "all" for a token with every permission of its user, else its abilities.
    static func abilities(_ abilities: [String]?) -> String {
        guard let abilities else { return "all" }
        return abilities.isEmpty ? "none" : abilities.sorted().joined(separator: ",")
    }

    /// revoked, expired, rotated (in its grace period) or active.
    static func state(_ token: TokenResponse, now: Date) -> String {
        if token.revokedAt != nil { return "revoked" }
        if token.expiresAt <= now { return "expired" }
        if token.rotatedAt != nil { return "rotated" }
        return "active"
    }

    static func token(_ token: TokenResponse, now: Date = Date()) -> Table {
        .keyValue([
            ("ID", token.id), ("Name", token.name), ("Kind", token.kind), ("Abilities", abilities(token.abilities)),
            ("State", state(token, now: now)), ("Created", Format.timestamp(token.createdAt, now: now)),
            ("Expires", Format.timestamp(token.expiresAt, now: now)),
            ("Last used", token.lastUsedAt.map { Format.timestamp($0, now: now) } ?? "never"),
        ])
    }

    /// pending, accepted or expired.
    static func state(_ invitation: InvitationResponse, now: Date) -> String {
        if invitation.acceptedAt != nil { return "accepted" }
        return invitation.expiresAt <= now ? "expired" : "pending"
    }
}
