package import CHOMCore
package import Foundation
package import Logging
package import PostgresNIO

/// The figures behind the coordinator's alerting gauges, read from the durable state (not from any
/// process's memory, so a restarted agent or a new leader changes none of them): each agent's
/// failure-detector verdict, the age of the oldest unfinished task, and each scheduled site's
/// backup and verification ages.
package struct AlertGaugeQueries: Sendable {
    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    package struct AgentHealth: Sendable, Equatable {
        package var agentID: AgentID
        package var name: String
        /// online, suspect or offline.
        package var health: String
    }

    package struct SiteBackups: Sendable, Equatable {
        package var domain: String
        package var tenantID: TenantID
        package var intervalSeconds: Double
        /// Seconds since the newest succeeded regular backup, or since the schedule was set when
        /// that is more recent (a new or changed schedule starts the clock).
        package var ageSeconds: Double
        /// Seconds since the newest verified backup, or since the oldest succeeded one when none
        /// was ever verified; nil when the site has no succeeded backup yet.
        package var verificationAgeSeconds: Double?
    }

    /// Every agent not deleted, with its health.
    package func agentHealth() async throws -> [AgentHealth] {
        let rows = try await client.query(
            "SELECT id, name, health FROM agents WHERE state <> 'deleted' ORDER BY id", logger: logger)
        var agents: [AgentHealth] = []
        for try await (id, name, health) in rows.decode((UUID, String, String).self) {
            agents.append(AgentHealth(agentID: AgentID(id), name: name, health: health))
        }
        return agents
    }

    /// The age in seconds of the oldest task in each unfinished state (a state with none is absent).
    package func oldestTaskAges(now: Date) async throws -> [TaskState: Double] {
        let rows = try await client.query("""
            SELECT state, extract(epoch FROM (\(now)::timestamptz - min(created_at)))::double precision
            FROM tasks WHERE state IN ('queued', 'sent', 'accepted') GROUP BY state
            """, logger: logger)
        var ages: [TaskState: Double] = [:]
        for try await (state, age) in rows.decode((String, Double).self) {
            if let state = TaskState(rawValue: state) { ages[state] = Self.seconds(age) }
        }
        return ages
    }

    /// Every site with a backup schedule that is not being removed.
    package func siteBackups(now: Date) async throws -> [SiteBackups] {
        let rows = try await client.query("""
            SELECT s.domain, s.tenant_id, bs.every_hours,
                extract(epoch FROM (\(now)::timestamptz - greatest(b.last_success, bs.updated_at)))::double precision,
                extract(epoch FROM (\(now)::timestamptz - coalesce(b.last_verified, b.first_success)))::double precision
            FROM backup_schedules bs
            JOIN sites s ON s.id = bs.site_id
            LEFT JOIN LATERAL (
                SELECT max(finished_at) AS last_success, min(finished_at) AS first_success,
                    max(verified_at) AS last_verified
                FROM backups
                WHERE site_id = s.id AND state = 'succeeded' AND purpose = 'regular' AND deleted_at IS NULL
            ) b ON true
            WHERE s.state NOT IN ('removing', 'removed')
            ORDER BY s.domain
            """, logger: logger)
        var sites: [SiteBackups] = []
        for try await (domain, tenant, hours, age, verification) in rows.decode((String, UUID, Int, Double, Double?).self) {
            sites.append(SiteBackups(
                domain: domain, tenantID: TenantID(tenant), intervalSeconds: Double(hours) * 3600,
                ageSeconds: Self.seconds(age), verificationAgeSeconds: verification.map(Self.seconds)))
        }
        return sites
    }

    /// Not below zero (clocks of two hosts), to the millisecond (PostgreSQL's epoch arithmetic
    /// leaves float noise below it).
    static func seconds(_ value: Double) -> Double {
        (max(0, value) * 1000).rounded() / 1000
    }
}
