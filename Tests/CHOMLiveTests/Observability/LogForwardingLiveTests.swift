import CHOMAgent
import CHOMAPI
import CHOMCore
import CHOMTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The agent forwards its sites' nginx logs to Debian's rsyslog over TCP as RFC 5424 messages
/// with the structured data site, tenant and agent; lines written while the collector was away
/// wait in the bounded buffer and arrive once it is up. Task lines go the same way, with the task
/// id and the trace id of the request that queued the task.
@Suite(
    "Log forwarding to rsyslog from a live agent",
    .enabled(
        if: getuid() == 0 && TestNginx.binary != nil && RsyslogServer.available, "needs root (site users), nginx and rsyslog"))
struct LogForwardingLiveTests {
    @Test("access and error lines reach rsyslog with site, tenant and agent; lines from while it was down arrive after; a forged path cannot change the structured data")
    func forwarded() async throws {
        let port = try FreePort.next()
        try await TestCoordinator.with { coordinator in
            try await TestNginx.with { nginx in
                try await TestAgent.with(coordinator: coordinator, name: "forwarding-vps", configure: {
                    nginx.host(&$0)
                    $0.logForwarding = LogForwarderService.Configuration(host: "127.0.0.1", port: port)
                    $0.logForwarding?.interval = .milliseconds(200)
                    $0.logForwarding?.connectTimeout = .milliseconds(500)
                }) { agent in
                    try await coordinator.waitOnline([agent.agentID])
                    let site = try await coordinator.createSite(domain: "fwd.test")
                    let deployed = try await coordinator.waitForTask(
                        try await coordinator.deploy(site: "fwd.test", files: ["public/index.html": "<h1>fwd</h1>"]).id)
                    #expect(deployed.state == "succeeded", "\(deployed.message ?? "")")
                    try await nginx.waitForWorkers()
                    let web = HealthCheck(port: nginx.port, timeout: .seconds(5))
                    // The collector is not up yet: requests made now wait in the agent's buffer.
                    var early: [String] = []
                    for index in 0..<15 {
                        let path = "/while-down-\(index)"
                        early.append(path)
                        _ = try await web.get(host: "fwd.test", path: path)
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    try await RsyslogServer.with(port: port) { rsyslog in
                        let prefix = { (kind: String) in
                            "\(kind) [chom@32473 site=\"fwd.test\" tenant=\"\(site.tenantId)\" agent=\"\(agent.agentID)\"] "
                        }
                        try await coordinator.eventually("lines from while the collector was down", timeout: .seconds(30)) {
                            rsyslog.lines().contains { $0.hasPrefix(prefix("access")) && $0.contains("/while-down-14 ") }
                        }
                        let forged = "/x]-[chom@32473-site=other.test-tenant=t]"
                        _ = try await web.get(host: "fwd.test", path: "/")
                        _ = try await web.get(host: "fwd.test", path: forged)
                        // A static site's 404 writes nothing to nginx's error log: the line nginx
                        // would write for a failed upstream is appended as nginx's master would.
                        let logs = try #require(agent.runtime.configuration.hosting?.logsDirectory)
                        let errorLog = try FileHandle(
                            forWritingTo: logs.appendingPathComponent("fwd.test/error.log"))
                        try errorLog.seekToEnd()
                        try errorLog.write(contentsOf: Data(
                            "2026/12/05 05:10:00 [error] 41#41: *7 connect() failed (111: Connection refused) while connecting to upstream, request: \"GET /while-down-3 HTTP/1.1\"\n".utf8))
                        try errorLog.close()
                        do {
                            try await coordinator.eventually("access and error lines", timeout: .seconds(30)) {
                                let lines = rsyslog.lines()
                                return lines.contains { $0.hasPrefix(prefix("access")) && $0.contains("GET / HTTP") }
                                    && lines.contains { $0.hasPrefix(prefix("error")) && $0.contains("Connection refused") }
                                    && lines.contains { $0.hasPrefix(prefix("access")) && $0.contains("other.test") }
                            }
                        } catch {
                            Issue.record("received:\n\(rsyslog.lines().joined(separator: "\n"))")
                            throw error
                        }
                        // Task lines: the deploy's, sent while the collector was down (its request
                        // had no trace context: the coordinator started one), and a configure whose
                        // request carried one, with that trace id.
                        let taskPrefix = { (task: String) in
                            "task [chom@32473 site=\"fwd.test\" tenant=\"\(site.tenantId)\" agent=\"\(agent.agentID)\" task=\"\(task)\" trace_id=\""
                        }
                        let trace = TraceParent.random()
                        let configured = try await TestHTTP.request(
                            "PUT", coordinator.apiURL.appendingPathComponent("v1/sites/\(site.id)/config"),
                            token: coordinator.operatorToken, body: Data(#"{"kind":"static"}"#.utf8),
                            headers: ["traceparent": trace.description])
                        let configureID = try #require((try configured.json()["task"] as? [String: Any])?["id"] as? String)
                        #expect(try await coordinator.waitForTask(configureID).state == "succeeded")
                        let traced = taskPrefix(configureID) + "\(trace.traceID)\"] "
                        do {
                            try await coordinator.eventually("the tasks' lines", timeout: .seconds(30)) {
                                let lines = rsyslog.lines()
                                return lines.contains { $0.hasPrefix(taskPrefix(deployed.id)) && $0.contains("] task deploy succeeded: release ") }
                                    && lines.contains(traced + "task configure accepted")
                                    && lines.contains { $0.hasPrefix(traced + "task configure succeeded: site fwd.test configured") }
                            }
                        } catch {
                            Issue.record("received:\n\(rsyslog.lines().joined(separator: "\n"))")
                            throw error
                        }
                        let lines = rsyslog.lines()
                        // Every line is the site's, with its own structured data, whatever the request said.
                        #expect(lines.allSatisfy {
                            $0.hasPrefix(prefix("access")) || $0.hasPrefix(prefix("error"))
                                || $0.hasPrefix(taskPrefix(deployed.id)) || $0.hasPrefix(traced)
                        }, "\(lines)")
                        #expect(!lines.contains { $0.contains("[chom@32473 site=\"other.test") || $0.hasPrefix("access [chom@32473 site=other") })
                        // Nothing the collector took twice, or lost from the outage's tail.
                        let downLines = lines.filter { $0.hasPrefix(prefix("access")) && $0.contains("/while-down-") }
                        #expect(Set(downLines).count == downLines.count, "no duplicates: \(downLines)")
                        #expect(early.suffix(5).allSatisfy { path in downLines.contains { $0.contains("\(path) ") } }, "\(downLines)")
                        let metrics = agent.runtime.metrics.text()
                        #expect(metrics.contains(#"chom_agent_log_forward_lines_total{result="dropped"} 0"#), "\(metrics)")
                        #expect(!metrics.contains(#"chom_agent_log_forward_lines_total{result="sent"} 0"#))
                    }
                }
            }
        }
    }
}
