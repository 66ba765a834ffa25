package import CHOMCore
import CHOMProtocol
import Foundation
package import Logging
import ServiceLifecycle
import Synchronization

/// The agent in one object: what the `chom-agent` executable runs and what in-process tests
/// start. `run()` holds the coordinator session and serves `/metrics` until cancelled or
/// gracefully shut down.
package final class AgentRuntime: Service, Sendable {
    package let configuration: AgentConfiguration
    package let metrics: AgentMetrics
    private let ledger = ExecutionLedger()
    private let control = SessionControl()
    /// The running group, for a graceful shutdown asked from outside it (tests).
    private let running = Mutex<(group: ServiceGroup?, shutdownAsked: Bool)>((nil, false))
    private let metricsServer: MetricsServer
    /// One for the agent's life: it supervises app processes across reconnects.
    package let hosting: LinuxSiteHosting?
    /// Fences the sites when the site lease runs out (with hosting only).
    package let lease: SiteLeaseKeeper?
    /// Billing's meters of the sites hosted here (with hosting only).
    package let usage: UsageMeter?
    private let clock: any WallClock
    private let logger: Logger

    package init(configuration: AgentConfiguration, logger: Logger, clock: any WallClock = SystemWallClock()) {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        let metrics = AgentMetrics()
        self.metrics = metrics
        let hosting = configuration.hosting.map { LinuxSiteHosting(configuration: $0, metrics: metrics) }
        self.hosting = hosting
        lease = hosting.map {
            SiteLeaseKeeper(
                fence: $0.fence, stateDirectory: configuration.stateDirectory, metrics: metrics, clock: clock,
                logger: logger)
        }
        usage = hosting.map { _ in
            UsageMeter(
                stateDirectory: configuration.stateDirectory, sites: metrics.sites,
                records: SiteRecordStore(directory: configuration.siteRecordsDirectory), clock: clock, logger: logger,
                interval: configuration.usageInterval)
        }
        metricsServer = MetricsServer(
            host: configuration.metricsHost, port: configuration.metricsPort, logger: logger,
            render: { metrics.render() })
    }

    /// Enrolls with the coordinator at `host:port` (the enrollment listener) and stores the
    /// identity under `configuration.stateDirectory`. `name` defaults to the hostname.
    @discardableResult
    package static func enroll(
        configuration: AgentConfiguration, host: String, port: Int, token: String, caSHA256: String,
        name: String? = nil, logger: Logger, clock: any WallClock = SystemWallClock()
    ) async throws(EnrollmentError) -> EnrolledIdentity {
        let facts = HostFactsReader.read(sitesRoot: configuration.sitesRoot)
        let enroller = Enroller(
            store: AgentIdentityStore(directory: configuration.identityDirectory),
            agentVersion: configuration.agentVersion, timeout: configuration.enrollTimeout, clock: clock,
            logger: logger)
        let chosenName = name.flatMap { $0.isEmpty ? nil : $0 } ?? (facts.hostname.isEmpty ? "agent" : facts.hostname)
        return try await enroller.enroll(
            host: host, port: port, token: token, caSHA256: caSHA256, name: chosenName, facts: facts)
    }

    /// True once an identity is stored.
    package var isEnrolled: Bool {
        AgentIdentityStore(directory: configuration.identityDirectory).exists
    }

    package func run() async throws {
        let store = AgentIdentityStore(directory: configuration.identityDirectory)
        guard try store.load() != nil else {
            throw CHOMError(
                .configuration,
                "this agent is not enrolled (no identity in \(store.directory.path)); run `chom-agent enroll` first")
        }
        let journal = try Journal(directory: configuration.journalDirectory)
        for entry in try journal.failInterrupted(now: clock.now()) {
            logger.warning("task interrupted by a previous stop, marked failed", metadata: [LogKey.taskID: "\(entry.taskID)"])
        }
        do {
            try FileManager.default.createDirectory(at: configuration.sitesRoot, withIntermediateDirectories: true)
        } catch {
            throw CHOMError(.configuration, "cannot create the sites root \(configuration.sitesRoot.path)", underlying: error)
        }
        Self.logFileProtections(logger: logger)
        if let hosting = configuration.hosting { Self.logCgroups(hosting.cgroups, logger: logger) }
        // Site configurations include the fence file: it must exist before nginx reads them.
        try hosting?.fence.ensure()
        var managedNginx: ManagedNginx?
        if let hosting = configuration.hosting, let directory = hosting.managedNginxDirectory {
            managedNginx = try await ManagedNginx.start(
                directory: directory, port: hosting.site.httpPort, httpsPort: hosting.site.httpsPort)
            logger.info("nginx started", metadata: ["nginx.directory": "\(directory.path)", "http.port": "\(hosting.site.httpPort)"])
        }
        // The lease before anything slow: the previous run's tokens only cover what was left of its
        // lease, and the php masters may take seconds each to start.
        await lease?.applyDue()
        if let php = hosting?.php {
            let resumed = await php.resumeAll()
            if resumed > 0 { logger.info("php-fpm masters started", metadata: ["sites": "\(resumed)"]) }
        }
        do {
            try await serve(store: store, journal: journal)
        } catch {
            await hosting?.apps.stopAll()
            await hosting?.php.stopAll()
            await managedNginx?.stop()
            throw error
        }
        await hosting?.apps.stopAll()
        await hosting?.php.stopAll()
        await managedNginx?.stop()
    }

    /// The agent's `ServiceGroup`: /metrics, the site lease, disk usage, log rotation and, last,
    /// the coordinator session, which a graceful shutdown stops first (a running task finishes,
    /// then the stream closes); the others stop after it, in reverse order.
    private func serve(store: AgentIdentityStore, journal: Journal) async throws {
        var services: [any Service] = [metricsServer]
        var taskLog: TaskLogForwarder?
        if let lease { services.append(lease) }
        services.append(SiteDiskUsageRefresher(sites: metrics.sites))
        if let usage { services.append(UsageMeterService(meter: usage, interval: configuration.usageInterval)) }
        if let hosting {
            services.append(logRotator(hosting))
            services.append(SiteProbeService(
                records: SiteRecordStore(directory: configuration.siteRecordsDirectory), sites: metrics.sites,
                httpPort: hosting.configuration.site.httpPort, httpsPort: hosting.configuration.site.httpsPort,
                tlsDirectory: hosting.configuration.tlsDirectory,
                configuration: configuration.siteProbe, logger: logger))
            if let forwarding = configuration.logForwarding {
                let records = SiteRecordStore(directory: configuration.siteRecordsDirectory)
                let agent = (try? store.load())?.agentID.description ?? "-"
                let buffer = LogForwardBuffer(capacity: forwarding.capacity, registry: metrics.registry)
                services.append(LogForwarderService(
                    configuration: forwarding, records: records, logsDirectory: hosting.configuration.logsDirectory,
                    agent: agent, buffer: buffer, logger: logger))
                taskLog = TaskLogForwarder(buffer: buffer, records: records, agent: agent)
            }
        }
        let configuration = self.configuration, metrics = self.metrics, ledger = self.ledger, control = self.control
        let hosting = self.hosting, lease = self.lease, usage = self.usage, clock = self.clock, logger = self.logger
        let forwardedTaskLog = taskLog
        services.append(SessionService(metricsServer: metricsServer) { metricsPort in
            // The session tells the coordinator where /metrics is: it starts once that is bound.
            var sessionConfiguration = configuration
            sessionConfiguration.metricsPort = metricsPort
            return AgentSession(
                configuration: sessionConfiguration, store: store, journal: journal, metrics: metrics, ledger: ledger,
                control: control, hosting: hosting, lease: lease, usage: usage, clock: clock, logger: logger,
                taskLog: forwardedTaskLog)
        })
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }, logger: logger))
        let asked = running.withLock { running -> Bool in
            running.group = group
            return running.shutdownAsked
        }
        if asked { await group.triggerGracefulShutdown() }
        try await group.run()
    }

    /// Rotates the site logs of `hosting` and has its nginx reopen them.
    private func logRotator(_ hosting: LinuxSiteHosting) -> SiteLogRotator {
        let nginx = hosting.nginx
        return SiteLogRotator(
            logsDirectory: hosting.configuration.logsDirectory, configuration: hosting.configuration.logRotation,
            logger: logger, reopen: { _ = try await nginx.reopenLogs() })
    }

    /// Asks `run()` to stop as a ServiceGroup's graceful shutdown would: a running task finishes,
    /// then the stream closes and the other services stop.
    package func beginGracefulShutdown() async {
        let group = running.withLock { running -> ServiceGroup? in
            running.shutdownAsked = true
            return running.group
        }
        await group?.triggerGracefulShutdown()
    }

    /// Closes the current Connect stream (after a running task finishes); the session reconnects
    /// as after a network failure. For tests that need the coordinator to re-send.
    package func dropConnectionForTesting() {
        control.dropConnection()
    }

    /// The bound metrics port, 0 until `run()` has bound it.
    package var metricsPort: Int { metricsServer.boundPort ?? 0 }

    /// Waits until the metrics server is bound and returns its port.
    package func waitForMetricsPort(timeout: Duration = .seconds(30)) async throws -> Int {
        let server = metricsServer
        let port = await withTaskGroup(of: Int?.self) { group in
            group.addTask { await server.waitForPort() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let port else { throw CHOMError(.unavailable, "the metrics server did not bind within \(timeout)") }
        return port
    }

    /// The `/metrics` body.
    package func metricsText() -> String {
        metrics.text()
    }

    /// How many times this process started executing `taskID` (0 or 1: exactly once).
    package func executions(of taskID: String) -> Int {
        ledger.executions(of: taskID)
    }

    /// Every entry of the journal on disk, read once.
    package func journalEntries() throws -> [JournalEntry] {
        try Journal(directory: configuration.journalDirectory).entries
    }

    /// What the journal on disk says about `taskID`.
    package func journalEntry(for taskID: String) throws -> JournalEntry? {
        try Journal(directory: configuration.journalDirectory).entry(for: taskID)
    }
}

/// The coordinator session as a service of the agent's group, started once `/metrics` is bound.
private struct SessionService: Service {
    let metricsServer: MetricsServer
    let make: @Sendable (_ metricsPort: Int) -> AgentSession

    func run() async throws {
        // nil: the metrics server could not bind, and its error ends the group.
        guard let port = await metricsServer.waitForPort() else { return }
        try await make(port).run()
    }
}
