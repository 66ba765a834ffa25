package import Foundation

// The admin API's request and response bodies (JSON, camelCase keys, ISO-8601 UTC times).
// Shared by the coordinator's routes and the `chom` CLI.

package struct HealthResponse: Codable, Sendable, Equatable {
    package var status: String
    package init(status: String) { self.status = status }
}

package struct CreateJoinTokenRequest: Codable, Sendable, Equatable {
    package var description: String?
    package var ttlSeconds: Double?
    package var maxUses: Int?
    package static let fields: Set<String> = ["description", "ttlSeconds", "maxUses"]
    package init(description: String? = nil, ttlSeconds: Double? = nil, maxUses: Int? = nil) {
        self.description = description
        self.ttlSeconds = ttlSeconds
        self.maxUses = maxUses
    }
}

package struct JoinTokenResponse: Codable, Sendable, Equatable {
    package var id: String
    package var description: String
    package var maxUses: Int
    package var uses: Int
    package var expiresAt: Date
    package var createdAt: Date
    package var revokedAt: Date?
    package init(
        id: String, description: String, maxUses: Int, uses: Int, expiresAt: Date, createdAt: Date, revokedAt: Date?
    ) {
        self.id = id
        self.description = description
        self.maxUses = maxUses
        self.uses = uses
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// Returned once, at creation: the only time the token's secret is shown.
package struct CreatedJoinTokenResponse: Codable, Sendable, Equatable {
    package var joinToken: JoinTokenResponse
    package var token: String
    /// SHA-256 of the fleet CA certificate (DER), for `chom-agent enroll --ca-sha256`.
    package var caSHA256: String
    /// host:port of the enrollment listener.
    package var enrollAddress: String
    package init(joinToken: JoinTokenResponse, token: String, caSHA256: String, enrollAddress: String) {
        self.joinToken = joinToken
        self.token = token
        self.caSHA256 = caSHA256
        self.enrollAddress = enrollAddress
    }
}

package struct JoinTokenUseResponse: Codable, Sendable, Equatable {
    package var usedAt: Date
    package var sourceAddress: String
    package var outcome: String
    package var agentId: String?
    package init(usedAt: Date, sourceAddress: String, outcome: String, agentId: String?) {
        self.usedAt = usedAt
        self.sourceAddress = sourceAddress
        self.outcome = outcome
        self.agentId = agentId
    }
}

package struct AgentResponse: Codable, Sendable, Equatable {
    package var id: String
    package var name: String
    package var state: String
    package var version: String
    package var hostname: String
    package var cpuCount: Int
    package var memoryTotalBytes: UInt64
    package var diskFreeBytes: UInt64
    package var load1: Double
    package var maxSites: Int
    package var sites: Int
    package var lastHeartbeatAt: Date?
    package var enrolledAt: Date
    package var certificateNotAfter: Date
    /// schedulable, cordoned, draining or drained: whether new sites may land on it.
    package var scheduling: String = "schedulable"
    /// online, suspect or offline: the leader's failure detector's verdict, from its heartbeats.
    package var health: String = "online"
    package var labels: [String: String] = [:]
    /// Where its sites are reached (DNS records point there).
    package var publicAddresses: [String] = []
    /// The site kinds it hosts (static, php, app).
    package var siteKinds: [String] = []
    package init(
        id: String, name: String, state: String, version: String, hostname: String, cpuCount: Int,
        memoryTotalBytes: UInt64, diskFreeBytes: UInt64, load1: Double, maxSites: Int, sites: Int,
        lastHeartbeatAt: Date?, enrolledAt: Date, certificateNotAfter: Date
    ) {
        self.id = id
        self.name = name
        self.state = state
        self.version = version
        self.hostname = hostname
        self.cpuCount = cpuCount
        self.memoryTotalBytes = memoryTotalBytes
        self.diskFreeBytes = diskFreeBytes
        self.load1 = load1
        self.maxSites = maxSites
        self.sites = sites
        self.lastHeartbeatAt = lastHeartbeatAt
        self.enrolledAt = enrolledAt
        self.certificateNotAfter = certificateNotAfter
    }
}

/// `POST /v1/tenants/{tenantId}/sites`: the tenant comes from the path, never the body.
package struct CreateSiteRequest: Codable, Sendable, Equatable {
    package var domain: String
    package static let fields: Set<String> = ["domain"]
    package init(domain: String) { self.domain = domain }
}

package struct SiteResponse: Codable, Sendable, Equatable {
    package var id: String
    package var tenantId: String
    package var domain: String
    package var agentId: String?
    package var state: String
    package var currentReleaseId: String?
    package var currentReleasePath: String?
    package var createdAt: Date
    package var updatedAt: Date
    /// static, php or app.
    package var kind: String
    package var suspended: Bool
    /// Why the site should be suspended (manual, billing, fencing); empty when it should be served.
    /// `suspended` says what its agent applied: the two differ while a suspend task is on its way.
    package var suspensionReasons: [String]
    /// The site's configuration; never its TLS private key.
    package var config: SiteConfigResponse
    package var lastBackupAt: Date?
    package var lastVerifiedBackupAt: Date?
    package init(
        id: String, tenantId: String, domain: String, agentId: String?, state: String, currentReleaseId: String?,
        currentReleasePath: String?, createdAt: Date, updatedAt: Date, kind: String = "static", suspended: Bool = false,
        suspensionReasons: [String] = [], config: SiteConfigResponse = SiteConfigResponse(), lastBackupAt: Date? = nil,
        lastVerifiedBackupAt: Date? = nil
    ) {
        self.id = id
        self.tenantId = tenantId
        self.domain = domain
        self.agentId = agentId
        self.state = state
        self.currentReleaseId = currentReleaseId
        self.currentReleasePath = currentReleasePath
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.kind = kind
        self.suspended = suspended
        self.suspensionReasons = suspensionReasons
        self.config = config
        self.lastBackupAt = lastBackupAt
        self.lastVerifiedBackupAt = lastVerifiedBackupAt
    }

    /// kind, suspended and config default when absent (a coordinator from before site configuration).
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id), tenantId: try c.decode(String.self, forKey: .tenantId),
            domain: try c.decode(String.self, forKey: .domain), agentId: try c.decodeIfPresent(String.self, forKey: .agentId),
            state: try c.decode(String.self, forKey: .state),
            currentReleaseId: try c.decodeIfPresent(String.self, forKey: .currentReleaseId),
            currentReleasePath: try c.decodeIfPresent(String.self, forKey: .currentReleasePath),
            createdAt: try c.decode(Date.self, forKey: .createdAt), updatedAt: try c.decode(Date.self, forKey: .updatedAt),
            kind: try c.decodeIfPresent(String.self, forKey: .kind) ?? "static",
            suspended: try c.decodeIfPresent(Bool.self, forKey: .suspended) ?? false,
            suspensionReasons: try c.decodeIfPresent([String].self, forKey: .suspensionReasons) ?? [],
            config: try c.decodeIfPresent(SiteConfigResponse.self, forKey: .config) ?? SiteConfigResponse(),
            lastBackupAt: try c.decodeIfPresent(Date.self, forKey: .lastBackupAt),
            lastVerifiedBackupAt: try c.decodeIfPresent(Date.self, forKey: .lastVerifiedBackupAt))
    }
}

package struct ReleaseResponse: Codable, Sendable, Equatable {
    package var id: String
    package var siteId: String
    package var sha256: String
    package var sizeBytes: Int64
    package var format: String
    package var createdAt: Date
    package init(id: String, siteId: String, sha256: String, sizeBytes: Int64, format: String, createdAt: Date) {
        self.id = id
        self.siteId = siteId
        self.sha256 = sha256
        self.sizeBytes = sizeBytes
        self.format = format
        self.createdAt = createdAt
    }
}

/// `POST /v1/sites/{site}/deploy`: an uploaded release (`releaseId`) or a git checkout (`git`), not both.
package struct DeployRequest: Codable, Sendable, Equatable {
    package var releaseId: String?
    package var keepReleases: Int?
    package var git: GitSourceBody?
    package static let fields: Set<String> = ["releaseId", "keepReleases", "git"]
    package init(releaseId: String? = nil, keepReleases: Int? = nil, git: GitSourceBody? = nil) {
        self.releaseId = releaseId
        self.keepReleases = keepReleases
        self.git = git
    }
}

package struct GitSourceBody: Codable, Sendable, Equatable {
    package var url: String
    package var ref: String
    package init(url: String, ref: String) {
        self.url = url
        self.ref = ref
    }
}

package struct TaskResponse: Codable, Sendable, Equatable {
    package var id: String
    package var kind: String
    package var state: String
    package var agentId: String
    package var siteId: String?
    package var releaseId: String?
    package var attempts: Int
    package var progressStep: String?
    package var progressLog: String?
    package var message: String?
    package var releasePath: String?
    package var createdAt: Date
    package var sentAt: Date?
    package var acceptedAt: Date?
    package var finishedAt: Date?
    /// The backup the task makes, checks or restores.
    package var backupId: String?
    /// For a failed task: the step it stopped at.
    package var failedStep: String?
    package init(
        id: String, kind: String, state: String, agentId: String, siteId: String?, releaseId: String?, attempts: Int,
        progressStep: String?, progressLog: String?, message: String?, releasePath: String?, createdAt: Date,
        sentAt: Date?, acceptedAt: Date?, finishedAt: Date?, backupId: String? = nil, failedStep: String? = nil
    ) {
        self.backupId = backupId
        self.failedStep = failedStep
        self.id = id
        self.kind = kind
        self.state = state
        self.agentId = agentId
        self.siteId = siteId
        self.releaseId = releaseId
        self.attempts = attempts
        self.progressStep = progressStep
        self.progressLog = progressLog
        self.message = message
        self.releasePath = releasePath
        self.createdAt = createdAt
        self.sentAt = sentAt
        self.acceptedAt = acceptedAt
        self.finishedAt = finishedAt
    }

    package var isFinal: Bool { state == "succeeded" || state == "failed" }
}

/// RFC 9457 problem details: every error the API returns.
package struct ProblemDetails: Codable, Sendable, Equatable, Error {
    package var type: String
    package var title: String
    package var status: Int
    package var detail: String
    /// A site that cannot be placed: every agent considered and why it was refused.
    package var agents: [PlacementRefusalAgent]? = nil
    /// A quota that refused the request (`sites`, `members`, `storage`), the plan's limit and the
    /// organization's usage.
    package var quota: String? = nil
    package var limit: Int64? = nil
    package var usage: Int64? = nil
    package init(type: String = "about:blank", title: String, status: Int, detail: String) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
    }
}

/// One page of a list route. `nextCursor` is absent on the last page; otherwise pass it back as
/// `cursor` for the next one.
package struct ListResponse<Item: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    package var items: [Item]
    package var nextCursor: String?
    package init(items: [Item], nextCursor: String? = nil) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// One entry of Prometheus HTTP service discovery (`GET /v1/discovery/prometheus`).
package struct PrometheusTargetGroup: Codable, Sendable, Equatable {
    package var targets: [String]
    package var labels: [String: String]
    package init(targets: [String], labels: [String: String]) {
        self.targets = targets
        self.labels = labels
    }
}
