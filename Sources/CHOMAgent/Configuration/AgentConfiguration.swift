package import Foundation

/// Everything an agent needs to run, with defaults for a small VPS. Parsing flags and
/// environment variables lives in the `chom-agent` executable.
package struct AgentConfiguration: Sendable {
    /// Holds `identity/` and `journal/`. Mode 0700.
    package var stateDirectory: URL
    /// One directory per site domain: `<sitesRoot>/<domain>/{current,releases/,.incoming/}`.
    package var sitesRoot: URL
    /// Where `/metrics` listens. Loopback by default: Prometheus scrapes through a tunnel or
    /// the operator opens it deliberately.
    package var metricsHost: String = "127.0.0.1"
    /// The addresses this host's sites are reached at (DNS records, a migrated site's proxy);
    /// empty: the coordinator uses the address the agent's stream comes from.
    package var publicAddresses: [String] = []
    /// 0 asks the kernel for a free port (tests); `AgentRuntime.metricsPort` tells which.
    package var metricsPort: Int = 9464
    /// How often a heartbeat (host facts + capacity) goes up the stream.
    package var heartbeatInterval: Duration = .seconds(10)
    /// How often the inventory (the sites held, their releases and config versions) goes up the
    /// stream, besides right after every hello; the coordinator reconciles it with the placement.
    package var inventoryInterval: Duration = .seconds(60)
    /// How often billing's usage meter adds what the sites used (and, on a stream, sends the
    /// samples of ended hours not yet acknowledged).
    package var usageInterval: Duration = .seconds(60)
    /// The periodic health probe of every hosted site (`chom_site_up`), with hosting only.
    package var siteProbe = SiteProbeService.Configuration()
    /// Where the sites' logs are forwarded as syslog (with hosting only); nil: not forwarded.
    package var logForwarding: LogForwarderService.Configuration?
    /// Site slots this agent offers to the scheduler.
    package var maxSites: Int = 50
    /// Releases kept per site when a deploy task does not say.
    package var keepReleases: Int = 5
    /// The coordinator replicas' agent listeners, dialled in turn: after a stream ends or a dial
    /// fails, the next one is tried (replicas share one PostgreSQL, so any of them serves the agent).
    /// Empty: the one address recorded at enrollment.
    package var connectAddresses: [CoordinatorAddress] = []
    /// Jittered exponential backoff between connection attempts.
    package var reconnect: Reconnect = Reconnect()
    /// Certificate renewal starts after this fraction of the client certificate's lifetime.
    package var renewalFraction: Double = 2.0 / 3.0
    /// How long to wait before asking again when a renewal got no certificate.
    package var renewalRetryInterval: Duration = .seconds(300)
    /// Reported in `Hello` and at enrollment.
    package var agentVersion: String = AgentConfiguration.defaultAgentVersion
    /// Limits for one deploy's artifact and its extraction.
    package var deploy: Deploy = Deploy()
    /// HTTP/2 keepalive ping interval on the agent connection. The coordinator must allow it:
    /// grpc-swift servers strike pings closer than 5 minutes by default, so stay above that.
    package var keepalive: Duration = .seconds(360)
    /// Deadline for the Enroll call (connect + handshake + response).
    package var enrollTimeout: Duration = .seconds(20)
    /// How sites are hosted (nginx, users, php-fpm). nil: deploys place files only, and every
    /// other site task is refused, as on an agent that hosts nothing.
    package var hosting: HostingConfiguration?
    /// Secrets in tasks are sealed to the agent's X25519 key (`identity/sealing.key`), made at
    /// enrollment or, for an agent enrolled before, at its next connection and registered then.
    /// false only stands in for such an older agent in tests: no key, no registration, no capability.
    package var sealedSecrets: Bool = true

    package static let defaultAgentVersion = "0.1.0"

    package struct Reconnect: Sendable, Equatable {
        /// The first retry waits at most this long.
        package var minimumDelay: Duration = .milliseconds(200)
        /// No retry waits longer than this.
        package var maximumDelay: Duration = .seconds(30)
        /// A stream that stayed up at least this long resets the backoff.
        package var stableAfter: Duration = .seconds(10)
        /// A stream whose heartbeats went unanswered this long, after at least one answer on it,
        /// is left for the next replica: the coordinator's side of it stalled (a replica stuck on
        /// its database). nil: `max(4 × heartbeatInterval, 20 s)`. A stream that never had an
        /// answer (the coordinator withholds them while this agent is declared failed) stays.
        package var silenceTimeout: Duration? = nil
        /// A coordinator that has not accepted the stream this long after the dial (a listener that
        /// takes the connection and never answers its TLS handshake, a replica that hangs) is given
        /// up on, and the agent dials again.
        package var acceptTimeout: Duration = .seconds(20)

        package init() {}
    }

    package struct Deploy: Sendable, Equatable {
        /// The largest artifact accepted, whatever the task declares.
        package var maxArtifactBytes: UInt64 = 1 << 30
        /// Extraction limits: 1 GiB of files, 100 000 entries.
        package var maxExtractedBytes: Int = 1 << 30
        package var maxEntries: Int = 100_000

        package init() {}
    }

    package init(stateDirectory: URL, sitesRoot: URL) {
        self.stateDirectory = stateDirectory
        self.sitesRoot = sitesRoot
    }

    /// `reconnect.silenceTimeout`, or its default.
    package var streamSilenceTimeout: Duration { reconnect.silenceTimeout ?? max(heartbeatInterval * 4, .seconds(20)) }
    /// `<state>/identity`
    package var identityDirectory: URL { stateDirectory.appendingPathComponent("identity", isDirectory: true) }
    /// `<sites root>/.chom-work`: backup archives being built or fetched, on the same file
    /// system as the releases so a restored tree moves into place with one rename.
    package var workDirectory: URL { sitesRoot.appendingPathComponent(".chom-work", isDirectory: true) }
    /// `<state>/journal`
    package var journalDirectory: URL { stateDirectory.appendingPathComponent("journal", isDirectory: true) }
    /// `<state>/site-records`: one record per hosted site (`SiteRecordStore`).
    package var siteRecordsDirectory: URL { stateDirectory.appendingPathComponent("site-records", isDirectory: true) }
}
