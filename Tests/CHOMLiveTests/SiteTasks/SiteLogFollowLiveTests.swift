import CHOMAPI
import CHOMAgent
import CHOMCore
import CHOMCoordinator
import CHOMTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `chom sites logs --follow` end to end: a real agent over mTLS hosting the site on a real nginx,
/// the coordinator's cursor carried from answer to answer, through a rotation the agent makes,
/// and from one replica to another.
@Suite(
    "Site logs followed", .enabled(if: getuid() == 0 && TestNginx.binary != nil, "needs root (site users) and nginx"))
struct SiteLogFollowLiveTests {
    /// The `?tag-N` request tags in `lines`, in order (the agent's health probe adds lines too).
    static func tags(_ lines: [String], _ tag: String) -> [Int] {
        lines.compactMap { line in
            guard let range = line.range(of: "?\(tag)-") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
    }

    /// Follows from `cursor` until `count` lines tagged `tag` came back (deadline 45 s); the
    /// tagged numbers in the order they came, and the last cursor.
    static func follow(
        _ client: AdminClient, _ site: String, from cursor: String, tag: String, count: Int
    ) async throws -> (tags: [Int], cursor: String, gaps: Int) {
        var cursor = cursor
        var seen: [Int] = []
        var gaps = 0
        // A rotated log is kept for 15 s after its last write before the follow moves on.
        let deadline = ContinuousClock.now + .seconds(45)
        while seen.count < count, ContinuousClock.now < deadline {
            let answer = try await client.siteLogs(site, kind: "access", after: cursor)
            seen += tags(answer.lines, tag)
            if answer.gap { gaps += 1 }
            cursor = try #require(answer.cursor)
            if !answer.truncated { try await Task.sleep(for: .milliseconds(100)) }
        }
        return (seen, cursor, gaps)
    }

    @Test("a follow returns each new line once, through a rotation; each read is audited, cursors are bound to their caller")
    func followThroughRotation() async throws {
        try await TestCoordinator.with { coordinator in
            try await TestNginx.with { nginx in
                try await TestAgent.with(coordinator: coordinator, name: "follow-vps", configure: nginx.host) { agent in
                    try await coordinator.waitOnline([agent.agentID])
                    let site = "follow.test"
                    _ = try await coordinator.createSite(domain: site)
                    let deployed = try await coordinator.waitForTask(
                        try await coordinator.deploy(site: site, files: ["public/index.html": "<h1>follow</h1>"]).id)
                    #expect(deployed.state == "succeeded", "\(deployed.message ?? "")")
                    try await nginx.waitForWorkers()
                    let check = HealthCheck(port: nginx.port, timeout: .seconds(5))
                    _ = try await check.get(host: site, path: "/?before-0")
                    var start = try await coordinator.client.siteLogs(site, kind: "access", tail: 5)
                    try await coordinator.eventually("the first request logged") {
                        start = try await coordinator.client.siteLogs(site, kind: "access", tail: 5)
                        return Self.tags(start.lines, "before") == [0]
                    }
                    let since = Date()
                    let first = try #require(start.cursor)

                    for index in 0..<5 { _ = try await check.get(host: site, path: "/?follow-\(index)") }
                    let before = try await Self.follow(coordinator.client, site, from: first, tag: "follow", count: 5)
                    #expect(before.tags == Array(0..<5) && before.gaps == 0, "\(before)")

                    // The agent rotates the log (as its rotator does every minute) and nginx reopens.
                    let logs = try #require(agent.runtime.configuration.hosting?.logsDirectory)
                    var settings = SiteLogRotator.Configuration()
                    settings.maxBytes = 1
                    let controller = NginxController(configuration: nginx.controllerConfiguration)
                    let rotator = SiteLogRotator(
                        logsDirectory: logs, configuration: settings, logger: TestLogging.logger("chom.test.rotate"),
                        reopen: { _ = try await controller.reopenLogs() })
                    #expect(try await rotator.rotateOnce().contains("\(site)/access.log"))
                    for index in 5..<10 { _ = try await check.get(host: site, path: "/?follow-\(index)") }
                    let after = try await Self.follow(coordinator.client, site, from: before.cursor, tag: "follow", count: 5)
                    #expect(after.tags == Array(5..<10) && after.gaps == 0, "\(after)")

                    // Audit: one site.logs.follow entry per follow read, with its position; no entry
                    // for a read's successful outcome.
                    let entries = try await coordinator.client.auditEntries(AuditFilter(since: since.addingTimeInterval(-1)), limit: 200)
                    let follows = entries.items.filter { $0.action == "site.logs.follow" }
                    #expect(follows.count >= 2 && follows.allSatisfy { $0.details["after"] != nil && $0.details["kind"] == "access" })
                    #expect(!entries.items.contains { $0.action == "task.succeeded" && $0.details["kind"] == "read_site_logs" })

                    // Refusals: not a cursor, a cursor for the other log, another caller's cursor.
                    await #expect(throws: AdminClientError.self) {
                        try await coordinator.client.siteLogs(site, kind: "access", after: "v1.x.AAAA.AAAA")
                    }
                    do {
                        _ = try await coordinator.client.siteLogs(site, kind: "error", after: after.cursor)
                        Issue.record("a cursor of the access log was taken for the error log")
                    } catch let error as AdminClientError {
                        #expect(error.status == 400 && error.description.contains("access log"), "\(error)")
                    }
                    let member = try await Self.member(coordinator)
                    #expect(try await member.siteLogs(site, kind: "access", tail: 1).cursor != nil)
                    do {
                        _ = try await member.siteLogs(site, kind: "access", after: after.cursor)
                        Issue.record("another caller's cursor was accepted")
                    } catch let error as AdminClientError {
                        #expect(error.status == 400 && error.description.contains("another caller"), "\(error)")
                    }
                }
            }
        }
    }

    @Test("a follow goes on through whichever replica answers: the cursor one replica gave, the other takes")
    func acrossReplicas() async throws {
        try await LeaderReplicas.with { fleet in
            let a = try await fleet.start("a")
            let b = try await fleet.start("b")
            let portsA = try await a.coordinator.boundPorts()
            let portsB = try await b.coordinator.boundPorts()
            let clients = [try await AgentReplicaTests.operatorClient(api: portsA.api), try await AgentReplicaTests.operatorClient(api: portsB.api)]
            try await TestNginx.with { nginx in
                let state = try TemporaryDirectory.make(prefix: "chom-agent-follow")
                defer { TemporaryDirectory.remove(state) }
                var configuration = AgentReplicaTests.agent(in: state, dialing: [portsA.agents, portsB.agents])
                nginx.host(&configuration)
                let logger = TestLogging.logger("chom.test.agent")
                let agentID = try await AgentReplicaTests.enroll(configuration, through: a, client: clients[0], name: "followed")
                let runtime = AgentRuntime(configuration: configuration, logger: logger)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await runtime.run() }
                    defer { group.cancelAll() }
                    try await fleet.eventually("the agent online") {
                        try await clients[0].agent(id: agentID.description).state == "online"
                    }
                    let site = "replicas-follow.test"
                    let organization = try await clients[0].createOrganization(name: "follow")
                    let tenant = try await clients[0].createTenant(organizationID: organization.id, name: "default")
                    _ = try await clients[0].createSite(tenantID: tenant.id, domain: site)
                    let release = try await clients[0].uploadRelease(
                        site: site, archive: try TestCoordinator.releaseArchive(["public/index.html": "<h1>replicas</h1>"]))
                    let deploy = try await clients[0].deploy(site: site, releaseID: release.id)
                    try await fleet.eventually("the deploy", timeout: .seconds(60)) {
                        try await clients[1].task(id: deploy.id).isFinal
                    }
                    #expect(try await clients[1].task(id: deploy.id).state == "succeeded")
                    try await nginx.waitForWorkers()
                    let check = HealthCheck(port: nginx.port, timeout: .seconds(5))

                    var cursor = try #require(try await clients[0].siteLogs(site, kind: "access", tail: 1).cursor)
                    var seen: [Int] = []
                    // Each round's requests are followed through the other replica than the last.
                    for round in 0..<4 {
                        for index in 0..<3 { _ = try await check.get(host: site, path: "/?replica-\(round * 3 + index)") }
                        let followed = try await Self.follow(
                            clients[(round + 1) % 2], site, from: cursor, tag: "replica", count: 3)
                        seen += followed.tags
                        cursor = followed.cursor
                        #expect(followed.gaps == 0)
                    }
                    #expect(seen == Array(0..<12), "\(seen)")
                    await runtime.beginGracefulShutdown()
                    try await group.next()
                }
            }
        }
    }

    /// A member of the test organization, signed in.
    static func member(_ coordinator: TestCoordinator) async throws -> AdminClient {
        let organization = try #require(try await coordinator.client.allOrganizations().first { $0.name == "tests" })
        let invitation = try await coordinator.client.createInvitation(
            organizationID: organization.id, email: "follower@chom.test", role: "member")
        let password = "follower-password-0123"
        _ = try await coordinator.client(token: nil).acceptInvitation(token: invitation.token, password: password)
        let login = try await coordinator.client(token: nil).login(email: "follower@chom.test", password: password)
        return coordinator.client(token: try #require(login.token))
    }
}
