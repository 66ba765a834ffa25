package import CHOMCore
package import Foundation

/// One placed site as the scheduler sees it.
package struct FleetSiteRow: Sendable, Equatable {
    package var siteID: SiteID
    package var tenantID: TenantID
    package var domain: String
    package var kind: SiteSettings.Kind
    package var agentID: AgentID
    package var state: String
    /// The site's own resource requests (JSON object), overriding its kind's defaults; nil: none.
    package var requestsJSON: String?
}

/// A site migration, one row of `site_migrations`.
package struct SiteMigrationRecord: Sendable, Equatable {
    package var id: MigrationID
    package var siteID: SiteID
    package var fromAgent: AgentID
    package var toAgent: AgentID
    package var reason: String
    package var state: String
    package var step: String
    package var taskID: TaskID?
    package var backupID: BackupID?
    package var failedStep: String?
    package var message: String
    package var switchedAt: Date?
    package var maintenanceStartedAt: Date?
    package var maintenanceEndedAt: Date?
    package var requestedBy: String
    package var createdAt: Date
    package var updatedAt: Date
    package var finishedAt: Date?
    /// Failovers: when the source was declared failed, when the restored backup finished, and
    /// whether it had been verified.
    package var sourceFailedAt: Date?
    package var backupTakenAt: Date?
    package var backupVerified: Bool?

    /// A failover's recovery point: how old its backup was when the source failed.
    package var recoveryPointSeconds: Double? {
        guard let failed = sourceFailedAt, let taken = backupTakenAt else { return nil }
        return max(0, failed.timeIntervalSince(taken))
    }

    /// A failover's recovery time: from the source's failure to the site serving from the target.
    package var recoveryTimeSeconds: Double? {
        guard let failed = sourceFailedAt, let switched = switchedAt else { return nil }
        return max(0, switched.timeIntervalSince(failed))
    }

    package init(
        id: MigrationID, siteID: SiteID, fromAgent: AgentID, toAgent: AgentID, reason: String, state: String, step: String,
        requestedBy: String, now: Date
    ) {
        self.id = id
        self.siteID = siteID
        self.fromAgent = fromAgent
        self.toAgent = toAgent
        self.reason = reason
        self.state = state
        self.step = step
        self.message = ""
        self.requestedBy = requestedBy
        self.createdAt = now
        self.updatedAt = now
    }
}
