package import Foundation

/// One agent that a placement refused, and why (in a 409 problem's `agents`).
package struct PlacementRefusalAgent: Codable, Sendable, Equatable {
    package var agentId: String
    package var agentName: String
    package var reasons: [String]
    package init(agentId: String, agentName: String, reasons: [String]) {
        self.agentId = agentId
        self.agentName = agentName
        self.reasons = reasons
    }
}

/// `PUT /v1/agents/{id}/labels`: the agent's labels, replaced whole.
package struct AgentLabelsRequest: Codable, Sendable, Equatable {
    package var labels: [String: String]
    package static let fields: Set<String> = ["labels"]
    package init(labels: [String: String]) { self.labels = labels }
}

/// `POST /v1/sites/{site}/move`.
package struct MoveSiteRequest: Codable, Sendable, Equatable {
    /// The agent to move to; absent: the scheduler chooses one (never the site's own).
    package var agentId: String?
    package static let fields: Set<String> = ["agentId"]
    package init(agentId: String? = nil) { self.agentId = agentId }
}

/// `PUT /v1/sites/{site}/requests`: what the scheduler reserves for the site on its agent. A
/// dimension left out (or null) takes the default of the site's kind; `{}` clears every override.
package struct SiteRequestsRequest: Codable, Sendable, Equatable {
    /// Thousandths of a core (a whole core is 1000).
    package var cpuMillis: Int64?
    package var memoryBytes: Int64?
    package var diskBytes: Int64?
    package static let fields: Set<String> = ["cpuMillis", "memoryBytes", "diskBytes"]
    package init(cpuMillis: Int64? = nil, memoryBytes: Int64? = nil, diskBytes: Int64? = nil) {
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
        self.diskBytes = diskBytes
    }
}

/// `PUT /v1/sites/{site}/failover`.
package struct SiteFailoverRequest: Codable, Sendable, Equatable {
    package var enabled: Bool
    package static let fields: Set<String> = ["enabled"]
    package init(enabled: Bool) { self.enabled = enabled }
}

/// Failover of one site, as it now stands, and the configure task that tells its agent.
package struct SiteFailoverResponse: Codable, Sendable, Equatable {
    package var siteId: String
    package var domain: String
    package var failoverEnabled: Bool
    /// The configure task that tells the site's agent (nil when nothing changed).
    package var taskId: String?
    package init(siteId: String, domain: String, failoverEnabled: Bool, taskId: String?) {
        self.siteId = siteId
        self.domain = domain
        self.failoverEnabled = failoverEnabled
        self.taskId = taskId
    }
}

/// A site's resource requests as the scheduler counts them, and which of them the site overrides.
package struct SiteRequestsResponse: Codable, Sendable, Equatable {
    package var siteId: String
    package var kind: String
    /// What the scheduler reserves: the overrides, else the kind's defaults.
    package var cpuMillis: Int64
    package var memoryBytes: Int64
    package var diskBytes: Int64
    /// The site's own values (absent: the kind's default applies).
    package var overrides: SiteRequestsRequest
    package init(
        siteId: String, kind: String, cpuMillis: Int64, memoryBytes: Int64, diskBytes: Int64,
        overrides: SiteRequestsRequest
    ) {
        self.siteId = siteId
        self.kind = kind
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
        self.diskBytes = diskBytes
        self.overrides = overrides
    }
}

/// A site migration and where it stands.
package struct MigrationResponse: Codable, Sendable, Equatable {
    package var id: String
    package var siteId: String
    package var domain: String?
    package var fromAgentId: String
    package var toAgentId: String
    /// manual, drain, rebalance or failover.
    package var reason: String
    /// running, succeeded or failed.
    package var state: String
    /// configure, backup, restore, health, maintenance, final_backup, final_restore, switch, proxy,
    /// dns_wait, cleanup, done.
    package var step: String
    package var failedStep: String?
    package var message: String
    package var taskId: String?
    package var backupId: String?
    package var switchedAt: Date?
    /// php and app sites: how long the old agent answered 503 (maintenance) during the final pass.
    package var maintenanceSeconds: Double?
    /// Failovers: the restored backup's age when the source failed, whether a drill had verified
    /// it, and (once switched) the time from the failure to serving from the target.
    package var recoveryPointSeconds: Double?
    package var backupVerified: Bool?
    package var recoveryTimeSeconds: Double?
    package var createdAt: Date
    package var updatedAt: Date
    package var finishedAt: Date?
    package init(
        id: String, siteId: String, domain: String?, fromAgentId: String, toAgentId: String, reason: String,
        state: String, step: String, failedStep: String?, message: String, taskId: String?, backupId: String?,
        switchedAt: Date?, maintenanceSeconds: Double?, createdAt: Date, updatedAt: Date, finishedAt: Date?
    ) {
        self.id = id
        self.siteId = siteId
        self.domain = domain
        self.fromAgentId = fromAgentId
        self.toAgentId = toAgentId
        self.reason = reason
        self.state = state
        self.step = step
        self.failedStep = failedStep
        self.message = message
        self.taskId = taskId
        self.backupId = backupId
        self.switchedAt = switchedAt
        self.maintenanceSeconds = maintenanceSeconds
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
    }
}

/// `POST /v1/fleet/rebalance`.
package struct RebalanceRequest: Codable, Sendable, Equatable {
    /// false (the default): only the plan; true: start a migration for every move.
    package var apply: Bool?
    package static let fields: Set<String> = ["apply"]
    package init(apply: Bool? = nil) { self.apply = apply }
}

/// One move of a rebalance plan, with its reason.
package struct PlannedMove: Codable, Sendable, Equatable {
    package var siteId: String
    package var domain: String
    package var fromAgentId: String
    package var fromAgentName: String
    package var toAgentId: String
    package var toAgentName: String
    package var reason: String
    package init(
        siteId: String, domain: String, fromAgentId: String, fromAgentName: String, toAgentId: String,
        toAgentName: String, reason: String
    ) {
        self.siteId = siteId
        self.domain = domain
        self.fromAgentId = fromAgentId
        self.fromAgentName = fromAgentName
        self.toAgentId = toAgentId
        self.toAgentName = toAgentName
        self.reason = reason
    }
}

package struct RebalanceResponse: Codable, Sendable, Equatable {
    package var moves: [PlannedMove]
    package var applied: Bool
    /// The migrations started when applied.
    package var migrations: [MigrationResponse]
    package init(moves: [PlannedMove], applied: Bool, migrations: [MigrationResponse]) {
        self.moves = moves
        self.applied = applied
        self.migrations = migrations
    }
}

/// `GET /v1/agents/{agent}/failover-plan`: what a failover of the agent would do now.
package struct FailoverPlanResponse: Codable, Sendable, Equatable {
    package var agentId: String
    package var agentName: String
    /// The agent's health now (online, suspect or offline).
    package var health: String
    /// Whether the leader fails agents over on its own (`fleet.failoverEnabled`).
    package var failoverEnabled: Bool
    package var sites: [FailoverPlanSite]

    package init(agentId: String, agentName: String, health: String, failoverEnabled: Bool, sites: [FailoverPlanSite]) {
        self.agentId = agentId
        self.agentName = agentName
        self.health = health
        self.failoverEnabled = failoverEnabled
        self.sites = sites
    }
}

/// One site of a failover plan: where it would go and from which backup, or why it cannot.
package struct FailoverPlanSite: Codable, Sendable, Equatable {
    package var siteId: String
    package var domain: String
    package var toAgentId: String?
    package var toAgentName: String?
    package var backupId: String?
    package var backupVerified: Bool?
    /// The backup's age now: the recovery point if the agent failed at this moment.
    package var recoveryPointSeconds: Double?
    /// Whether failover is on for this site (`PUT /v1/sites/{site}/failover`).
    package var failoverEnabled = true
    /// Why this site would stay where it is (failover off for it, no usable backup, no agent can take it).
    package var problem: String?

    package init(siteId: String, domain: String) {
        self.siteId = siteId
        self.domain = domain
    }
}
