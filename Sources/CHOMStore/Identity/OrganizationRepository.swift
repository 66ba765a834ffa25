package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// Organizations and their tenants. Callers pass the organizations a principal may see;
/// nil means every organization (platform operators).
package struct OrganizationRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    package func create(id: OrganizationID, name: String, now: Date, in transaction: AuditedTransaction) async throws
        -> OrganizationRecord
    {
        try await transaction.connection.query("""
            INSERT INTO organizations (id, name, created_at, updated_at) VALUES (\(id.uuid), \(name), \(now), \(now))
            """, logger: logger)
        return OrganizationRecord(id: id, name: name, createdAt: now)
    }

    package func rename(_ id: OrganizationID, name: String, now: Date, in transaction: AuditedTransaction) async throws
        -> OrganizationRecord?
    {
        let rows = try await transaction.connection.query(
            "UPDATE organizations SET name = \(name), updated_at = \(now) WHERE id = \(id.uuid) RETURNING *",
            logger: logger)
        for try await row in rows { return try Self.decodeOrganization(row.makeRandomAccess()) }
        return nil
    }

    /// A page ordered by id, after `cursor`.
    package func list(visible: [OrganizationID]?, after cursor: UUID?, limit: Int) async throws -> [OrganizationRecord] {
        let all = visible == nil
        let ids = (visible ?? []).map(\.uuid)
        let rows = try await client.query("""
            SELECT * FROM organizations WHERE (\(all) OR id = ANY(\(ids)))
              AND (\(cursor)::uuid IS NULL OR id > \(cursor)::uuid)
            ORDER BY id LIMIT \(limit)
            """, logger: logger)
        var result: [OrganizationRecord] = []
        for try await row in rows { result.append(try Self.decodeOrganization(row.makeRandomAccess())) }
        return result
    }

    package func get(_ id: OrganizationID) async throws -> OrganizationRecord? {
        let rows = try await client.query("SELECT * FROM organizations WHERE id = \(id.uuid)", logger: logger)
        for try await row in rows { return try Self.decodeOrganization(row.makeRandomAccess()) }
        return nil
    }

    package func createTenant(
        id: TenantID, organization: OrganizationID, name: String, now: Date, in transaction: AuditedTransaction
    ) async throws -> TenantRecord {
        let exists = try await transaction.connection.query(
            "SELECT 1 FROM tenants WHERE organization_id = \(organization.uuid) AND name = \(name)", logger: logger)
        for try await _ in exists { throw CHOMError(.conflict, "the organization already has a tenant named \(name)") }
        try await transaction.connection.query("""
            INSERT INTO tenants (id, organization_id, name, created_at)
            VALUES (\(id.uuid), \(organization.uuid), \(name), \(now))
            """, logger: logger)
        return TenantRecord(id: id, organizationID: organization, name: name, createdAt: now)
    }

    /// Tenants of an organization, limited to `visible` (nil: all of them), ordered by id.
    package func tenants(
        of organization: OrganizationID, visible: [TenantID]?, after cursor: UUID?, limit: Int
    ) async throws -> [TenantRecord] {
        let all = visible == nil
        let ids = (visible ?? []).map(\.uuid)
        let rows = try await client.query("""
            SELECT * FROM tenants WHERE organization_id = \(organization.uuid) AND (\(all) OR id = ANY(\(ids)))
              AND (\(cursor)::uuid IS NULL OR id > \(cursor)::uuid)
            ORDER BY id LIMIT \(limit)
            """, logger: logger)
        var result: [TenantRecord] = []
        for try await row in rows { result.append(try Self.decodeTenant(row.makeRandomAccess())) }
        return result
    }

    package func tenant(_ id: TenantID) async throws -> TenantRecord? {
        let rows = try await client.query("SELECT * FROM tenants WHERE id = \(id.uuid)", logger: logger)
        for try await row in rows { return try Self.decodeTenant(row.makeRandomAccess()) }
        return nil
    }

    static func decodeOrganization(_ row: PostgresRandomAccessRow) throws -> OrganizationRecord {
        OrganizationRecord(
            id: OrganizationID(try row.value("id", as: UUID.self)), name: try row.value("name"),
            createdAt: try row.value("created_at"))
    }

    static func decodeTenant(_ row: PostgresRandomAccessRow) throws -> TenantRecord {
        TenantRecord(
            id: TenantID(try row.value("id", as: UUID.self)),
            organizationID: OrganizationID(try row.value("organization_id", as: UUID.self)),
            name: try row.value("name"), createdAt: try row.value("created_at"))
    }
}
