package import CHOMCore
package import Foundation
package import Logging
package import PostgresNIO

/// One alert as Alertmanager delivered it (already bounded and checked by the receiver).
package struct IncomingAlert: Sendable, Equatable {
    package var fingerprint: String
    package var alertname: String
    package var firing: Bool
    package var labels: [String: String]
    package var summary: String
    package var description: String
    package var runbook: String
    package var startsAt: Date
    package var endsAt: Date?

    package init(
        fingerprint: String, alertname: String, firing: Bool, labels: [String: String], summary: String,
        description: String, runbook: String, startsAt: Date, endsAt: Date?
    ) {
        self.fingerprint = fingerprint
        self.alertname = alertname
        self.firing = firing
        self.labels = labels
        self.summary = summary
        self.description = description
        self.runbook = runbook
        self.startsAt = startsAt
        self.endsAt = endsAt
    }
}

/// A stored alert.
package struct AlertRecord: Sendable, Equatable {
    package var id: UUID
    package var fingerprint: String
    package var alertname: String
    package var status: String
    package var severity: String
    package var organizationID: OrganizationID?
    package var tenantID: TenantID?
    package var siteID: SiteID?
    package var site: String?
    package var labels: [String: String]
    package var summary: String
    package var description: String
    package var runbook: String
    package var startsAt: Date
    package var endsAt: Date?
    package var updatedAt: Date

    package init(
        id: UUID, fingerprint: String, alertname: String, status: String, severity: String,
        organizationID: OrganizationID?, tenantID: TenantID?, siteID: SiteID?, site: String?, labels: [String: String],
        summary: String, description: String, runbook: String, startsAt: Date, endsAt: Date?, updatedAt: Date
    ) {
        self.id = id
        self.fingerprint = fingerprint
        self.alertname = alertname
        self.status = status
        self.severity = severity
        self.organizationID = organizationID
        self.tenantID = tenantID
        self.siteID = siteID
        self.site = site
        self.labels = labels
        self.summary = summary
        self.description = description
        self.runbook = runbook
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.updatedAt = updatedAt
    }
}

/// Alerts from Alertmanager, filed under a tenant only when their `site` and `tenant` labels name
/// a site of that tenant (so a mislabelled alert never reaches another tenant: it stays the
/// fleet's, seen by operators). Stored by (fingerprint, start): Alertmanager repeats a firing
/// alert every `repeat_interval`, and a repeat changes nothing.
package struct AlertRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// What one delivered alert changed: a new firing alert, or one that stopped firing.
    package enum Transition: String, Sendable, Equatable {
        case firing, resolved
    }

    /// Stores `alert` and returns the stored row with its transition (nil: a repeat).
    package func record(_ alert: IncomingAlert, now: Date, in transaction: AuditedTransaction) async throws
        -> (record: AlertRecord, transition: Transition?)
    {
        let connection = transaction.connection
        // One delivery of an alert at a time: two at once would both see it new and both notify.
        try await connection.query(
            "SELECT pg_advisory_xact_lock(hashtextextended(\("chom-alert:\(alert.fingerprint)"), 0))", logger: logger)
        var organization: UUID?, tenant: UUID?, site: UUID?
        // An alert from an agent's series carries the agent's id from service discovery (a label the
        // agent cannot set): it is filed under the site only when that agent hosts the site, so a
        // compromised agent exporting another tenant's site labels raises a fleet alert, not theirs.
        let agentLabel = alert.labels["chom_agent_id"]
        if let domain = alert.labels["site"], let tenantLabel = alert.labels["tenant"].flatMap(UUID.init(uuidString:)),
            agentLabel == nil || UUID(uuidString: agentLabel ?? "") != nil
        {
            let agent = agentLabel.flatMap(UUID.init(uuidString:))
            let rows = try await connection.query("""
                SELECT s.id, t.id, t.organization_id FROM sites s JOIN tenants t ON t.id = s.tenant_id
                WHERE s.domain = \(domain) AND s.tenant_id = \(tenantLabel) AND s.state <> 'removed'
                  AND (\(agent)::uuid IS NULL OR s.agent_id = \(agent))
                """, logger: logger)
            for try await (siteID, tenantID, organizationID) in rows.decode((UUID, UUID, UUID).self) {
                (site, tenant, organization) = (siteID, tenantID, organizationID)
            }
        }
        var previous: String?
        let existing = try await connection.query("""
            SELECT status FROM alerts WHERE fingerprint = \(alert.fingerprint) AND starts_at = \(alert.startsAt) FOR UPDATE
            """, logger: logger)
        for try await status in existing.decode(String.self) { previous = status }
        let status = alert.firing ? "firing" : "resolved"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let labels = String(decoding: try encoder.encode(alert.labels), as: UTF8.self)
        let rows = try await connection.query("""
            INSERT INTO alerts (id, fingerprint, alertname, status, severity, organization_id, tenant_id, site_id, labels,
                summary, description, runbook, starts_at, ends_at, received_at, updated_at)
            VALUES (\(UUID()), \(alert.fingerprint), \(alert.alertname), \(status), \(alert.labels["severity"] ?? ""),
                \(organization), \(tenant), \(site), \(labels)::jsonb, \(alert.summary), \(alert.description),
                \(alert.runbook), \(alert.startsAt), \(alert.firing ? nil : alert.endsAt), \(now), \(now))
            ON CONFLICT (fingerprint, starts_at) DO UPDATE SET
                -- A late repeat of the firing alert never undoes its resolution.
                status = CASE WHEN alerts.status = 'resolved' THEN 'resolved' ELSE EXCLUDED.status END,
                ends_at = CASE WHEN alerts.status = 'resolved' THEN alerts.ends_at ELSE EXCLUDED.ends_at END,
                summary = EXCLUDED.summary,
                description = EXCLUDED.description, runbook = EXCLUDED.runbook, updated_at = EXCLUDED.updated_at
            RETURNING id
            """, logger: logger)
        var id: UUID?
        for try await value in rows.decode(UUID.self) { id = value }
        guard let id, let record = try await get(id, on: connection) else {
            throw CHOMError(.internal, "the alert was not stored")
        }
        let transition: Transition? =
            switch (previous, alert.firing) {
            case (nil, true): .firing
            case ("firing", false), (nil, false): .resolved
            default: nil
            }
        return (record, transition)
    }

    /// Alerts visible in `scope` (the fleet's own only with `.fleet`), newest change first; a page
    /// starts after `before` = (updated_at in whole microseconds, id) of the last row of the
    /// previous one, compared as integers (a Date would be rounded on its way to PostgreSQL).
    package func list(
        scope: TenantScope, status: String?, site: SiteID?, before: (Int64, UUID)?, limit: Int
    ) async throws -> [AlertRecord] {
        let tenants = scope.tenantIDs.map { $0.map(\.uuid) }
        let rows = try await client.query("""
            SELECT a.*, a.labels::text AS labels_text, s.domain FROM alerts a LEFT JOIN sites s ON s.id = a.site_id
            WHERE (\(tenants == nil) OR a.tenant_id = ANY(\(tenants ?? [])))
              AND (\(status)::text IS NULL OR a.status = \(status))
              AND (\(site?.uuid)::uuid IS NULL OR a.site_id = \(site?.uuid))
              AND (\(before?.0)::bigint IS NULL
                OR ((extract(epoch FROM a.updated_at) * 1000000)::bigint, a.id) < (\(before?.0), \(before?.1)))
            ORDER BY a.updated_at DESC, a.id DESC LIMIT \(limit)
            """, logger: logger)
        var alerts: [AlertRecord] = []
        for try await row in rows { alerts.append(try Self.decode(row.makeRandomAccess())) }
        return alerts
    }

    private func get(_ id: UUID, on connection: PostgresConnection) async throws -> AlertRecord? {
        let rows = try await connection.query("""
            SELECT a.*, a.labels::text AS labels_text, s.domain FROM alerts a LEFT JOIN sites s ON s.id = a.site_id WHERE a.id = \(id)
            """, logger: logger)
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        return nil
    }

    static func decode(_ row: PostgresRandomAccessRow) throws -> AlertRecord {
        let labels: String = try row.value("labels_text")
        let organization: UUID? = try row.value("organization_id")
        let tenant: UUID? = try row.value("tenant_id")
        let site: UUID? = try row.value("site_id")
        return AlertRecord(
            id: try row.value("id"), fingerprint: try row.value("fingerprint"), alertname: try row.value("alertname"),
            status: try row.value("status"), severity: try row.value("severity"),
            organizationID: organization.map { OrganizationID($0) }, tenantID: tenant.map { TenantID($0) },
            siteID: site.map { SiteID($0) }, site: try row.value("domain"),
            labels: (try? JSONDecoder().decode([String: String].self, from: Data(labels.utf8))) ?? [:],
            summary: try row.value("summary"), description: try row.value("description"), runbook: try row.value("runbook"),
            startsAt: try row.value("starts_at"), endsAt: try row.value("ends_at"), updatedAt: try row.value("updated_at"))
    }
}
