import CHOMCore
import CHOMStore
import Crypto
import Foundation

/// Everything the coordinator can be configured with, with the defaults of
/// `coordinator-config/coordinator.json`. Parsing lives in `ConfigurationLoader`.
package struct CoordinatorConfiguration: Sendable, Codable, Equatable {
    package struct API: Sendable, Codable, Equatable {
        package var host = "127.0.0.1"
        package var port = 8080
        package var maxBodyBytes = 256 << 20
        package init() {}
    }

    package struct GRPC: Sendable, Codable, Equatable {
        package var host = "0.0.0.0"
        /// The mutual-TLS agent listener (Connect, FetchArtifact).
        package var port = 8443
        /// The server-auth TLS enrollment listener (Enroll).
        package var enrollPort = 8444
        package var advertisedHostnames = ["localhost"]
        package var advertisedAddresses = ["127.0.0.1"]
        package init() {}
    }

    package struct Agents: Sendable, Codable, Equatable {
        package var certificateLifetimeSeconds = 86_400.0
        package var heartbeatIntervalSeconds = 10.0
        package var offlineGraceSeconds = 30.0
        /// The failure detector (`FailureDetector`): silent this long, an agent is suspect (no new
        /// sites); `failureGraceSeconds` more, it is offline (failed). The TTL grows with the fleet
        /// to at least agents / `maxHeartbeatsPerSecond` seconds.
        package var heartbeatTTLSeconds = 30.0
        package var failureGraceSeconds = 30.0
        package var maxHeartbeatsPerSecond = 50.0
        /// The agents' site lease (fencing), sent in every heartbeat answer while
        /// `fleet.failoverEnabled` is on: an agent with no answer for this long puts its sites in
        /// maintenance (503). Must satisfy `L·1.01 + 2 < heartbeatTTLSeconds + failureGraceSeconds`
        /// (Protocol/README.md), so that an agent has stopped serving before its sites fail over.
        package var siteLeaseSeconds = 40.0
        /// Failed enrollments per source address within `enrollmentWindowSeconds`; beyond it the
        /// address is refused (resourceExhausted) until its oldest failure leaves the window.
        package var enrollmentFailuresPerAddress = 10
        package var enrollmentWindowSeconds = 900.0
        /// How many source addresses the enrollment throttle remembers at most.
        package var enrollmentThrottleAddresses = 10_000
        /// Accept loopback, link-local, unspecified and multicast addresses as an agent's public
        /// addresses (DNS records, a migration's proxy target, the health probe): for agents on one
        /// machine (the demo, tests). Off, such addresses an agent reports are dropped, so a
        /// compromised agent cannot point the fleet at 127.0.0.1 or 169.254.169.254.
        package var allowInternalAddresses = false
        package init() {}
    }

    package struct Dispatch: Sendable, Codable, Equatable {
        package var maxDeliveryAttempts = 5
        package var envelopeTTLSeconds = 600.0
        package var pollIntervalSeconds = 2.0
        /// How long `GET /v1/sites/{site}/logs` waits for the agent's answer before 504.
        package var siteLogsTimeoutSeconds = 15.0
        package init() {}
    }

    package struct JoinTokens: Sendable, Codable, Equatable {
        package var defaultTTLSeconds = 3600.0
        package var defaultMaxUses = 1
        package init() {}
    }

    package struct Auth: Sendable, Codable, Equatable {
        package var bcryptCost = 12
        package var sessionTTLSeconds = 3600.0
        /// How long a rotated token stays valid beside its successor.
        package var rotationGraceSeconds = 60.0
        package var loginAttemptsPerAccount = 5
        package var loginAttemptsPerAddress = 20
        package var loginWindowSeconds = 900.0
        package var invitationTTLSeconds = 7 * 86_400.0
        /// The operator created on first start when there is no user yet.
        package var bootstrapOperatorEmail = "admin@localhost"
        package init() {}
    }

    package struct Secrets: Sendable, Codable, Equatable {
        /// Key-encryption keys inline, `id:base64key` separated by commas (instead of a key file).
        package var keys: String?
        /// One `id:base64key` per line; default `<dataDirectory>/secrets.keys`, created on first start.
        package var keyFile: String?
        /// The key new secrets are sealed with; default the last key listed.
        package var activeKey: String?
        package init() {}
    }

    package struct Audit: Sendable, Codable, Equatable {
        package var checkpointEveryEntries = 1000
        package var checkpointEveryMinutes = 10.0
        /// Where signed checkpoints are also written (`audit-checkpoints.jsonl`), outside the database.
        package var exportDirectory: String?
        /// How often the leader verifies the whole chain (`chom_coordinator_audit_chain_intact`).
        package var verifyEveryMinutes = 60.0
        package init() {}
    }

    package var dataDirectory = "/var/lib/chom-coordinator"
    package var databaseURL: String?
    package var logLevel = "info"
    package var api = API()
    package var grpc = GRPC()
    package var auth = Auth()
    package var secrets = Secrets()
    package var audit = Audit()
    package var agents = Agents()
    package var dispatch = Dispatch()
    package var joinTokens = JoinTokens()
    package var backups = Backups()
    package var dns = DNS()
    package var reconcile = Reconcile()
    package var leader = Leader()
    package var fleet = Fleet()
    package var billing = Billing()
    package var notifications = Notifications()
    package var observability = Observability()

    package init() {}
}

// Every key is optional in the file: decode over the defaults.
extension CoordinatorConfiguration.API {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? maxBodyBytes
    }
}

extension CoordinatorConfiguration.GRPC {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
        enrollPort = try c.decodeIfPresent(Int.self, forKey: .enrollPort) ?? enrollPort
        advertisedHostnames = try c.decodeIfPresent([String].self, forKey: .advertisedHostnames) ?? advertisedHostnames
        advertisedAddresses = try c.decodeIfPresent([String].self, forKey: .advertisedAddresses) ?? advertisedAddresses
    }
}

extension CoordinatorConfiguration.Agents {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        certificateLifetimeSeconds =
            try c.decodeIfPresent(Double.self, forKey: .certificateLifetimeSeconds) ?? certificateLifetimeSeconds
        heartbeatIntervalSeconds =
            try c.decodeIfPresent(Double.self, forKey: .heartbeatIntervalSeconds) ?? heartbeatIntervalSeconds
        offlineGraceSeconds = try c.decodeIfPresent(Double.self, forKey: .offlineGraceSeconds) ?? offlineGraceSeconds
        heartbeatTTLSeconds = try c.decodeIfPresent(Double.self, forKey: .heartbeatTTLSeconds) ?? heartbeatTTLSeconds
        failureGraceSeconds = try c.decodeIfPresent(Double.self, forKey: .failureGraceSeconds) ?? failureGraceSeconds
        maxHeartbeatsPerSecond =
            try c.decodeIfPresent(Double.self, forKey: .maxHeartbeatsPerSecond) ?? maxHeartbeatsPerSecond
        siteLeaseSeconds = try c.decodeIfPresent(Double.self, forKey: .siteLeaseSeconds) ?? siteLeaseSeconds
        enrollmentFailuresPerAddress =
            try c.decodeIfPresent(Int.self, forKey: .enrollmentFailuresPerAddress) ?? enrollmentFailuresPerAddress
        enrollmentWindowSeconds =
            try c.decodeIfPresent(Double.self, forKey: .enrollmentWindowSeconds) ?? enrollmentWindowSeconds
        enrollmentThrottleAddresses =
            try c.decodeIfPresent(Int.self, forKey: .enrollmentThrottleAddresses) ?? enrollmentThrottleAddresses
        allowInternalAddresses =
            try c.decodeIfPresent(Bool.self, forKey: .allowInternalAddresses) ?? allowInternalAddresses
    }
}

extension CoordinatorConfiguration.Dispatch {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxDeliveryAttempts = try c.decodeIfPresent(Int.self, forKey: .maxDeliveryAttempts) ?? maxDeliveryAttempts
        envelopeTTLSeconds = try c.decodeIfPresent(Double.self, forKey: .envelopeTTLSeconds) ?? envelopeTTLSeconds
        pollIntervalSeconds = try c.decodeIfPresent(Double.self, forKey: .pollIntervalSeconds) ?? pollIntervalSeconds
        siteLogsTimeoutSeconds =
            try c.decodeIfPresent(Double.self, forKey: .siteLogsTimeoutSeconds) ?? siteLogsTimeoutSeconds
    }
}

extension CoordinatorConfiguration.JoinTokens {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        defaultTTLSeconds = try c.decodeIfPresent(Double.self, forKey: .defaultTTLSeconds) ?? defaultTTLSeconds
        defaultMaxUses = try c.decodeIfPresent(Int.self, forKey: .defaultMaxUses) ?? defaultMaxUses
    }
}

extension CoordinatorConfiguration {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dataDirectory = try c.decodeIfPresent(String.self, forKey: .dataDirectory) ?? dataDirectory
        databaseURL = try c.decodeIfPresent(String.self, forKey: .databaseURL) ?? databaseURL
        logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel) ?? logLevel
        api = try c.decodeIfPresent(API.self, forKey: .api) ?? api
        grpc = try c.decodeIfPresent(GRPC.self, forKey: .grpc) ?? grpc
        auth = try c.decodeIfPresent(Auth.self, forKey: .auth) ?? auth
        secrets = try c.decodeIfPresent(Secrets.self, forKey: .secrets) ?? secrets
        audit = try c.decodeIfPresent(Audit.self, forKey: .audit) ?? audit
        agents = try c.decodeIfPresent(Agents.self, forKey: .agents) ?? agents
        dispatch = try c.decodeIfPresent(Dispatch.self, forKey: .dispatch) ?? dispatch
        joinTokens = try c.decodeIfPresent(JoinTokens.self, forKey: .joinTokens) ?? joinTokens
        backups = try c.decodeIfPresent(Backups.self, forKey: .backups) ?? backups
        dns = try c.decodeIfPresent(DNS.self, forKey: .dns) ?? dns
        reconcile = try c.decodeIfPresent(Reconcile.self, forKey: .reconcile) ?? reconcile
        leader = try c.decodeIfPresent(Leader.self, forKey: .leader) ?? leader
        fleet = try c.decodeIfPresent(Fleet.self, forKey: .fleet) ?? fleet
        billing = try c.decodeIfPresent(Billing.self, forKey: .billing) ?? billing
        notifications = try c.decodeIfPresent(Notifications.self, forKey: .notifications) ?? notifications
        observability = try c.decodeIfPresent(Observability.self, forKey: .observability) ?? observability
    }
}

extension CoordinatorConfiguration.Auth {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        bcryptCost = try c.decodeIfPresent(Int.self, forKey: .bcryptCost) ?? bcryptCost
        sessionTTLSeconds = try c.decodeIfPresent(Double.self, forKey: .sessionTTLSeconds) ?? sessionTTLSeconds
        rotationGraceSeconds = try c.decodeIfPresent(Double.self, forKey: .rotationGraceSeconds) ?? rotationGraceSeconds
        loginAttemptsPerAccount =
            try c.decodeIfPresent(Int.self, forKey: .loginAttemptsPerAccount) ?? loginAttemptsPerAccount
        loginAttemptsPerAddress =
            try c.decodeIfPresent(Int.self, forKey: .loginAttemptsPerAddress) ?? loginAttemptsPerAddress
        loginWindowSeconds = try c.decodeIfPresent(Double.self, forKey: .loginWindowSeconds) ?? loginWindowSeconds
        invitationTTLSeconds = try c.decodeIfPresent(Double.self, forKey: .invitationTTLSeconds) ?? invitationTTLSeconds
        bootstrapOperatorEmail =
            try c.decodeIfPresent(String.self, forKey: .bootstrapOperatorEmail) ?? bootstrapOperatorEmail
    }
}

extension CoordinatorConfiguration.Audit {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        checkpointEveryEntries =
            try c.decodeIfPresent(Int.self, forKey: .checkpointEveryEntries) ?? checkpointEveryEntries
        checkpointEveryMinutes =
            try c.decodeIfPresent(Double.self, forKey: .checkpointEveryMinutes) ?? checkpointEveryMinutes
        exportDirectory = try c.decodeIfPresent(String.self, forKey: .exportDirectory) ?? exportDirectory
        verifyEveryMinutes = try c.decodeIfPresent(Double.self, forKey: .verifyEveryMinutes) ?? verifyEveryMinutes
    }
}

extension CoordinatorConfiguration.Audit {
    /// The store's checkpoint rule from these settings, signing with the coordinator's key.
    func settings(signingKey: Curve25519.Signing.PrivateKey) -> AuditSettings {
        AuditSettings(
            signingKey: signingKey, everyEntries: Int64(max(1, checkpointEveryEntries)),
            everyInterval: max(1, checkpointEveryMinutes * 60))
    }
}

extension CoordinatorConfiguration.Agents {
    /// The failure detector's TTL must cover a few of the agents' heartbeats, or it declares live
    /// agents failed (and fails their sites over while they still serve them).
    package func validate() throws {
        guard heartbeatIntervalSeconds > 0, heartbeatTTLSeconds >= 2 * heartbeatIntervalSeconds else {
            throw CHOMError(.configuration, """
                agents.heartbeatTTLSeconds (\(heartbeatTTLSeconds)) must be at least twice \
                agents.heartbeatIntervalSeconds (\(heartbeatIntervalSeconds)), the interval the agents beat at \
                (chom-agent run --heartbeat-interval); three times or more is safer
                """)
        }
        guard failureGraceSeconds >= 0, maxHeartbeatsPerSecond > 0 else {
            throw CHOMError(.configuration, "agents.failureGraceSeconds must be 0 or more and agents.maxHeartbeatsPerSecond above 0")
        }
        // Granted in whole seconds, and nginx's lease tokens end up to a second before the lease.
        guard siteLeaseSeconds.rounded(.down) - 1 >= 2 * heartbeatIntervalSeconds else {
            throw CHOMError(.configuration, """
                agents.siteLeaseSeconds (\(siteLeaseSeconds)) must be at least twice \
                agents.heartbeatIntervalSeconds (\(heartbeatIntervalSeconds)) plus one second: one late heartbeat \
                answer would put every site of an agent in maintenance
                """)
        }
        guard Self.leaseMargin(lease: siteLeaseSeconds, ttl: heartbeatTTLSeconds, grace: failureGraceSeconds) > 0 else {
            throw CHOMError(.configuration, """
                agents.siteLeaseSeconds (\(siteLeaseSeconds)) is too long for agents.heartbeatTTLSeconds + \
                agents.failureGraceSeconds (\(heartbeatTTLSeconds + failureGraceSeconds)): an agent cut off from the \
                coordinators would still serve its sites when they fail over; the rule is \
                lease × 1.01 + 2 < TTL + grace (Protocol/README.md)
                """)
        }
    }

    /// `T + G − (L·(1 + ρ) + d)` with ρ = 1 % clock drift and d = 2 s for the answer's delay and
    /// nginx's reload: how much earlier than a failover a fenced agent has stopped serving.
    package static func leaseMargin(lease: Double, ttl: Double, grace: Double) -> Double {
        ttl + grace - (lease * 1.01 + 2)
    }
}
