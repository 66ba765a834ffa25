import CHOMAPI
import CHOMAgent
import CHOMCore
import CHOMTesting
import Foundation
import Logging
import Testing

/// One W3C trace id followed from an admin API call to the agent's log lines for the task it
/// queued: the request's `traceparent` → the answer's `traceparent` (same trace, the
/// coordinator's span) → the task row → the envelope header → "task accepted" / "task finished"
/// on the agent, with a real coordinator, PostgreSQL and agent over mTLS.
@Suite("Trace correlation, live")
struct TraceCorrelationLiveTests {
    @Test("a caller's trace id reaches the agent's log lines for the task its request queued")
    func followOneTrace() async throws {
        try await TestCoordinator.with { coordinator in
            let (logger, log) = CapturingLogHandler.logger(label: "chom.test.agent")
            try await TestAgent.with(coordinator: coordinator, logger: logger) { agent in
                try await coordinator.waitOnline([agent.agentID])
                let site = try await coordinator.createSite(domain: "traced.test")
                let caller = TraceParent.random()
                let reply = try await TestHTTP.request(
                    "PUT", coordinator.apiURL.appendingPathComponent("v1/sites/\(site.id)/config"),
                    token: coordinator.operatorToken, body: Data(#"{"kind":"static"}"#.utf8),
                    headers: ["traceparent": caller.description])
                #expect(reply.status == 200, "\(reply.text)")
                let answered = try #require(reply.headers["traceparent"].flatMap { TraceParent(header: $0) })
                #expect(answered.traceID == caller.traceID, "the answer continues the caller's trace")
                #expect(answered.spanID != caller.spanID, "with the coordinator's own span")
                let taskID = try #require((try reply.json()["task"] as? [String: Any])?["id"] as? String)

                let task = try await coordinator.waitForTask(taskID)
                #expect(task.isFinal)
                #expect(try await TestDatabase.count(
                    "SELECT count(*) FROM tasks WHERE id = '\(taskID)' AND traceparent = '\(answered.description)'",
                    dataDirectory: coordinator.dataDirectory) == 1, "the task stores the request's span")
                for line in ["task accepted", "task finished"] {
                    let entries = log.entries(line).filter { $0.metadata[LogKey.taskID] == "\(taskID)" }
                    #expect(entries.count == 1, "\(line)")
                    #expect(entries.first?.metadata[LogKey.traceID] == "\(caller.traceID)", "\(line)")
                }
            }
        }
    }

    @Test("every answer has a trace: started when the caller sent none or an invalid one, errors included")
    func everyAnswer() async throws {
        try await TestCoordinator.with { coordinator in
            let health = coordinator.apiURL.appendingPathComponent("v1/health")
            let plain = try await TestHTTP.request("GET", health)
            let started = try #require(plain.headers["traceparent"].flatMap { TraceParent(header: $0) }, "\(plain.headers)")
            #expect(started.flags == 1)

            let invalid = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"
            let replaced = try await TestHTTP.request("GET", health, headers: ["traceparent": invalid])
            let fresh = try #require(replaced.headers["traceparent"].flatMap { TraceParent(header: $0) })
            #expect(fresh.traceID != "4bf92f3577b34da6a3ce929d0e0e4736" && fresh.traceID != started.traceID)

            let caller = TraceParent.random()
            for (method, path, token) in [
                ("GET", "v1/sites/no-such-site", coordinator.operatorToken), ("GET", "v1/sites", nil), ("GET", "v1/nowhere", nil),
            ] as [(String, String, String?)] {
                let reply = try await TestHTTP.request(
                    method, coordinator.apiURL.appendingPathComponent(path), token: token,
                    headers: ["traceparent": caller.description])
                #expect(reply.status >= 400, "\(path)")
                let answered = TraceParent(header: reply.headers["traceparent"] ?? "")
                #expect(answered?.traceID == caller.traceID, "\(path): \(reply.headers)")
            }
        }
    }
}
