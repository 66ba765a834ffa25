package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// Who belongs to which organization, with which role and tenants; and invitations.
package struct MembershipRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// The user's memberships and every tenant each one reaches (with that membership's role), in
    /// one query: every authenticated request asks for both.
    package func access(of user: UserID) async throws -> (memberships: [MembershipRecord], grants: [TenantGrant]) {
        let rows = try await client.query("""
            SELECT m.*, u.email,
                ARRAY(SELECT t.id FROM tenants t
                      WHERE t.organization_id = m.organization_id
                        AND (cardinality(m.tenant_ids) = 0 OR t.id = ANY(m.tenant_ids))
                      ORDER BY t.id) AS granted_tenant_ids
            FROM memberships m JOIN users u ON u.id = m.user_id
            WHERE m.user_id = \(user.uuid) ORDER BY m.organization_id
            """, logger: logger)
        var memberships: [MembershipRecord] = []
        var grants: [TenantGrant] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            let membership = try Self.decode(r)
            memberships.append(membership)
            let granted: [UUID] = try r.value("granted_tenant_ids")
            grants += granted.map {
                TenantGrant(tenantID: TenantID($0), organizationID: membership.organizationID, role: membership.role)
            }
        }
        return (memberships, grants)
    }

    package func memberships(of user: UserID) async throws -> [MembershipRecord] {
        try await decodeAll(client.query("""
            SELECT m.*, u.email FROM memberships m JOIN users u ON u.id = m.user_id
            WHERE m.user_id = \(user.uuid) ORDER BY m.organization_id
            """, logger: logger))
    }

    package func members(of organization: OrganizationID, after cursor: UUID?, limit: Int) async throws
        -> [MembershipRecord]
    {
        try await decodeAll(client.query("""
            SELECT m.*, u.email FROM memberships m JOIN users u ON u.id = m.user_id
            WHERE m.organization_id = \(organization.uuid) AND (\(cursor)::uuid IS NULL OR m.user_id > \(cursor)::uuid)
            ORDER BY m.user_id LIMIT \(limit)
            """, logger: logger))
    }

    package func membership(_ organization: OrganizationID, user: UserID) async throws -> MembershipRecord? {
        try await decodeAll(client.query("""
            SELECT m.*, u.email FROM memberships m JOIN users u ON u.id = m.user_id
            WHERE m.organization_id = \(organization.uuid) AND m.user_id = \(user.uuid)
            """, logger: logger)).first
    }

    /// Adds the user to the organization, or changes an existing membership.
    package func put(
        _ organization: OrganizationID, user: UserID, role: OrganizationRole, tenantIDs: [TenantID], now: Date,
        in transaction: AuditedTransaction
    ) async throws {
        try await transaction.connection.query("""
            INSERT INTO memberships (organization_id, user_id, role, tenant_ids, created_at, updated_at)
            VALUES (\(organization.uuid), \(user.uuid), \(role.rawValue), \(tenantIDs.map(\.uuid)), \(now), \(now))
            ON CONFLICT (organization_id, user_id)
            DO UPDATE SET role = EXCLUDED.role, tenant_ids = EXCLUDED.tenant_ids, updated_at = EXCLUDED.updated_at
            """, logger: logger)
    }

    package func remove(_ organization: OrganizationID, user: UserID, in transaction: AuditedTransaction) async throws
        -> Bool
    {
        let rows = try await transaction.connection.query("""
            DELETE FROM memberships WHERE organization_id = \(organization.uuid) AND user_id = \(user.uuid)
            RETURNING user_id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Owners of the organization, counted inside the transaction (under a row lock) so the
    /// last owner cannot be removed or demoted by two concurrent requests.
    package func ownerCount(_ organization: OrganizationID, in transaction: AuditedTransaction) async throws -> Int {
        try await transaction.connection.query(
            "SELECT 1 FROM organizations WHERE id = \(organization.uuid) FOR UPDATE", logger: logger)
        let rows = try await transaction.connection.query(
            "SELECT count(*)::integer FROM memberships WHERE organization_id = \(organization.uuid) AND role = 'owner'",
            logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    // MARK: Invitations

    package func invite(_ invitation: InvitationRecord, invitedBy: UserID, in transaction: AuditedTransaction)
        async throws
    {
        let i = invitation
        try await transaction.connection.query("""
            INSERT INTO invitations (id, organization_id, email, role, tenant_ids, secret_sha256, invited_by,
                created_at, expires_at)
            VALUES (\(i.id.uuid), \(i.organizationID.uuid), \(i.email), \(i.role.rawValue), \(i.tenantIDs.map(\.uuid)),
                \(ByteBuffer(bytes: i.secretSHA256)), \(invitedBy.uuid), \(i.createdAt), \(i.expiresAt))
            """, logger: logger)
    }

    package func invitations(of organization: OrganizationID, after cursor: UUID?, limit: Int) async throws
        -> [InvitationRecord]
    {
        let rows = try await client.query("""
            SELECT * FROM invitations WHERE organization_id = \(organization.uuid) AND revoked_at IS NULL
              AND (\(cursor)::uuid IS NULL OR id > \(cursor)::uuid)
            ORDER BY id LIMIT \(limit)
            """, logger: logger)
        var result: [InvitationRecord] = []
        for try await row in rows { result.append(try Self.decodeInvitation(row.makeRandomAccess())) }
        return result
    }

    package func invitation(_ id: InvitationID) async throws -> InvitationRecord? {
        let rows = try await client.query("SELECT * FROM invitations WHERE id = \(id.uuid)", logger: logger)
        for try await row in rows { return try Self.decodeInvitation(row.makeRandomAccess()) }
        return nil
    }

    package func revokeInvitation(
        _ id: InvitationID, organization: OrganizationID, now: Date, in transaction: AuditedTransaction
    ) async throws -> Bool {
        let rows = try await transaction.connection.query("""
            UPDATE invitations SET revoked_at = \(now)
            WHERE id = \(id.uuid) AND organization_id = \(organization.uuid) AND revoked_at IS NULL
              AND accepted_at IS NULL
            RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Marks the invitation accepted if it is still open; false if someone else took it first.
    package func markAccepted(_ id: InvitationID, now: Date, in transaction: AuditedTransaction) async throws -> Bool {
        let rows = try await transaction.connection.query("""
            UPDATE invitations SET accepted_at = \(now)
            WHERE id = \(id.uuid) AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > \(now)
            RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    private func decodeAll(_ rows: PostgresRowSequence) async throws -> [MembershipRecord] {
        var result: [MembershipRecord] = []
        for try await row in rows { result.append(try Self.decode(row.makeRandomAccess())) }
        return result
    }

    /// A membership row with its user's email.
    static func decode(_ r: PostgresRandomAccessRow) throws -> MembershipRecord {
        guard let role = OrganizationRole(rawValue: try r.value("role")) else {
            throw CHOMError(.integrity, "membership with an unknown role")
        }
        let tenants: [UUID] = try r.value("tenant_ids")
        return MembershipRecord(
            organizationID: OrganizationID(try r.value("organization_id", as: UUID.self)),
            userID: UserID(try r.value("user_id", as: UUID.self)), email: try r.value("email"), role: role,
            tenantIDs: tenants.map { TenantID($0) }, createdAt: try r.value("created_at"))
    }

    static func decodeInvitation(_ r: PostgresRandomAccessRow) throws -> InvitationRecord {
        guard let role = OrganizationRole(rawValue: try r.value("role")) else {
            throw CHOMError(.integrity, "invitation with an unknown role")
        }
        let tenants: [UUID] = try r.value("tenant_ids")
        let secret: ByteBuffer = try r.value("secret_sha256")
        return InvitationRecord(
            id: InvitationID(try r.value("id", as: UUID.self)),
            organizationID: OrganizationID(try r.value("organization_id", as: UUID.self)), email: try r.value("email"),
            role: role, tenantIDs: tenants.map { TenantID($0) }, secretSHA256: Array(buffer: secret),
            createdAt: try r.value("created_at"), expiresAt: try r.value("expires_at"),
            acceptedAt: try r.value("accepted_at"), revokedAt: try r.value("revoked_at"))
    }
}
