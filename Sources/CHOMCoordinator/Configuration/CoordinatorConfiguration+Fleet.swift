import CHOMCore
package import CHOMScheduler
import Foundation

extension CoordinatorConfiguration {
    /// How the leader places, moves and drains sites (`fleet` in the configuration file).
    package struct Fleet: Sendable, Codable, Equatable {
        /// Placement: binpack or spread, the candidate sample, tenant anti-affinity, headroom.
        package var scheduler = SchedulerPolicy()
        /// What a site requests when it sets nothing itself, per kind.
        package var siteRequests = SiteRequestDefaults()
        /// The rebalance planner's utilization threshold, move cap and hysteresis.
        package var rebalance = RebalancePolicy()
        /// Migrations running at once across the fleet (drains and rebalances wait their turn).
        package var maxConcurrentMigrations = 4
        /// How long a migrated site's old agent proxies to the new one after the switch: the DNS
        /// TTL plus a margin for resolvers that hold a record a little longer.
        package var proxySeconds = 90.0
        /// How long the target may take to answer the site's health check before the move fails.
        package var healthTimeoutSeconds = 30.0
        /// How often the leader advances migrations and drains.
        package var tickSeconds = 1.0
        /// How often the leader rewrites DNS records that drifted (with `dns` configured).
        package var dnsUpkeepSeconds = 10.0
        /// A migration needs a backup destination both agents reach: S3 always does; a local
        /// directory only when every agent mounts the same shared directory there (say so here).
        package var sharedBackupDirectory = false
        /// How long a drain leaves a site whose migration failed before trying it again.
        package var failedMoveRetrySeconds = 300.0
        /// Restore the sites of an agent the failure detector declared failed on surviving agents
        /// (`FleetFailover`). Off, they wait for an operator, and agents keep no site lease
        /// (nothing else would serve their sites, so fencing would only be downtime).
        package var failoverEnabled = true
        /// Failover restores running at once across the fleet; the other sites wait their turn.
        package var maxConcurrentFailovers = 4
        package init() {}
    }
}

extension CoordinatorConfiguration.Fleet {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        scheduler = try c.decodeIfPresent(SchedulerPolicy.self, forKey: .scheduler) ?? scheduler
        siteRequests = try c.decodeIfPresent(SiteRequestDefaults.self, forKey: .siteRequests) ?? siteRequests
        rebalance = try c.decodeIfPresent(RebalancePolicy.self, forKey: .rebalance) ?? rebalance
        maxConcurrentMigrations =
            try c.decodeIfPresent(Int.self, forKey: .maxConcurrentMigrations) ?? maxConcurrentMigrations
        proxySeconds = try c.decodeIfPresent(Double.self, forKey: .proxySeconds) ?? proxySeconds
        healthTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .healthTimeoutSeconds) ?? healthTimeoutSeconds
        tickSeconds = try c.decodeIfPresent(Double.self, forKey: .tickSeconds) ?? tickSeconds
        dnsUpkeepSeconds = try c.decodeIfPresent(Double.self, forKey: .dnsUpkeepSeconds) ?? dnsUpkeepSeconds
        sharedBackupDirectory =
            try c.decodeIfPresent(Bool.self, forKey: .sharedBackupDirectory) ?? sharedBackupDirectory
        failedMoveRetrySeconds =
            try c.decodeIfPresent(Double.self, forKey: .failedMoveRetrySeconds) ?? failedMoveRetrySeconds
        failoverEnabled = try c.decodeIfPresent(Bool.self, forKey: .failoverEnabled) ?? failoverEnabled
        maxConcurrentFailovers =
            try c.decodeIfPresent(Int.self, forKey: .maxConcurrentFailovers) ?? maxConcurrentFailovers
    }
}

extension CoordinatorConfiguration {
    /// The lease a heartbeat answer grants: `agents.siteLeaseSeconds` while failover is on, else
    /// 0 (no lease).
    package var siteLeaseSecondsGranted: UInt32 {
        fleet.failoverEnabled ? UInt32(max(1, agents.siteLeaseSeconds.rounded(.down))) : 0
    }
}
