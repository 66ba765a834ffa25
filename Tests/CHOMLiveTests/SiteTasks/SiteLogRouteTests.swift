import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMProtocol
import CHOMTesting
import Foundation
import Testing

/// `GET /v1/sites/{site}/logs`: the typed task it queues, the agent's answer fed through the
/// gateway's own path, and every way it refuses or gives up.
@Suite("Site logs route", .serialized)
struct SiteLogRouteTests {
    /// Starts the GET, waits (deadline 10 s) for its `read_site_logs` task, answers it with `fill`
    /// as the agent would, and returns the reply and the task as sent.
    static func read(
        _ world: SiteTaskWorld, query: String, token: String? = nil,
        answer fill: @escaping @Sendable (inout Chom_Agent_V1_TaskResult) -> Void
    ) async throws -> (reply: TestHTTP.Reply, task: Chom_Agent_V1_Task) {
        let before = try await world.tasks(kind: "read_site_logs")
        async let reply = world.send("GET", "/v1/sites/\(world.site)/logs\(query)", token: token)
        var id: String?
        let deadline = ContinuousClock.now + .seconds(10)
        while id == nil, ContinuousClock.now < deadline {
            id = try await world.tasks(kind: "read_site_logs").first { !before.contains($0) }
            if id == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        let task = try #require(id, "no read_site_logs task was queued")
        try await world.report(task, fill)
        return (try await reply, try await world.payload(task))
    }

    @Test("a member reads the lines the agent sent back; they are erased from the task row; the read is audited")
    func readsLines() async throws {
        try await SiteTaskWorld.with { world in
            let (reply, task) = try await Self.read(world, query: "?kind=error&tail=2", token: world.organization.member.token) { result in
                result.siteLogs.lines = ["first [error] line", "second [error] line"]
                result.siteLogs.truncated = true
            }
            #expect(reply.status == 200, "\(reply.text)")
            let body = try JSONDecoder().decode(SiteLogsResponse.self, from: reply.body)
            #expect(body == SiteLogsResponse(kind: "error", lines: ["first [error] line", "second [error] line"], truncated: true))
            #expect(task.readSiteLogs.kind == .error && task.readSiteLogs.tail == 2)
            #expect(task.readSiteLogs.site.siteID == world.site && task.readSiteLogs.site.domain == world.organization.domain)
            #expect(try await world.count("SELECT count(*) FROM tasks WHERE kind = 'read_site_logs' AND result_lines IS NOT NULL") == 0)
            #expect(try await world.count(
                "SELECT count(*) FROM audit_entries WHERE action = 'site.logs.read' AND target = 'site:\(world.site)'") == 1)
            // The defaults: access, 100 lines.
            let (plain, defaults) = try await Self.read(world, query: "") { $0.siteLogs.lines = ["GET / 200"] }
            #expect(plain.status == 200, "\(plain.text)")
            #expect(defaults.readSiteLogs.kind == .access && defaults.readSiteLogs.tail == 100)
        }
    }

    @Test("a missing log answers 404, another failure 502; a viewer 403; a bad kind or tail 400 before anything is queued")
    func refusals() async throws {
        try await SiteTaskWorld.with { world in
            let missing = try await Self.read(world, query: "?kind=access") { result in
                result.outcome = .failed
                result.message = "there is no access log for the site on this agent yet"
                result.failedStep = "missing_log"
            }
            #expect(missing.reply.status == 404 && missing.reply.text.contains("no access log"), "\(missing.reply.text)")
            let broken = try await Self.read(world, query: "") { result in
                result.outcome = .failed
                result.message = "cannot open the log: Permission denied"
            }
            #expect(broken.reply.status == 502 && broken.reply.text.contains("Permission denied"), "\(broken.reply.text)")

            let queued = try await world.tasks(kind: "read_site_logs").count
            let viewer = try await world.send("GET", "/v1/sites/\(world.site)/logs", token: world.organization.viewer.token)
            #expect(viewer.status == 403, "\(viewer.text)")
            for query in ["?kind=debug", "?kind=", "?tail=0", "?tail=1001", "?tail=ten", "?kind=access&tail=-1"] {
                let reply = try await world.send("GET", "/v1/sites/\(world.site)/logs\(query)")
                #expect(reply.status == 400, "\(query): \(reply.status) \(reply.text)")
                #expect(reply.headers["content-type"]?.contains("problem+json") == true)
            }
            #expect(try await world.tasks(kind: "read_site_logs").count == queued)
        }
    }

    @Test("an agent that does not answer in time gives 504; an offline agent 503 without queueing")
    func timeoutAndOffline() async throws {
        try await SiteTaskWorld.with(configure: { $0.dispatch.siteLogsTimeoutSeconds = 0.3 }) { world in
            let started = ContinuousClock.now
            let slow = try await world.send("GET", "/v1/sites/\(world.site)/logs")
            #expect(slow.status == 504, "\(slow.text)")
            #expect(ContinuousClock.now - started < .seconds(10))
            let late = try #require(try await world.tasks(kind: "read_site_logs").first)
            // The task was failed when the reader gave up: a late answer is not recorded, its lines not kept.
            #expect(try await world.coordinator.client.task(id: late).state == "failed")
            #expect(try await world.report(late) { $0.siteLogs.lines = ["203.0.113.9 GET /"] } == nil)
            #expect(try await world.count("SELECT count(*) FROM tasks WHERE result_lines IS NOT NULL") == 0)
            try await TestDatabase.execute(
                "UPDATE agents SET state = 'offline' WHERE id = '\(world.agentID)';",
                dataDirectory: world.coordinator.dataDirectory)
            let offline = try await world.send("GET", "/v1/sites/\(world.site)/logs")
            #expect(offline.status == 503 && offline.text.contains("offline"), "\(offline.text)")
            #expect(try await world.tasks(kind: "read_site_logs").count == 1)
        }
    }
}
