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

/// The operator's stack as shipped: Debian's Prometheus discovers the agent through the
/// coordinator's HTTP service discovery (with an operator's token), scrapes it and the coordinator,
/// evaluates `coordinator-config/alerts/chom.yml` (its `for:` durations cut to 0 s), and Debian's
/// Alertmanager, configured from `coordinator-config/alertmanager.yml`, delivers to CHOM's receiver.
@Suite(
    "Prometheus and Alertmanager against a live fleet",
    .enabled(
        if: getuid() == 0 && TestNginx.binary != nil && PrometheusStack.available,
        "needs root (site users), nginx, Prometheus and Alertmanager"))
struct PrometheusAlertingLiveTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `text` with every `old` replaced, failing when one is not there (the example changed).
    static func replacing(_ text: String, _ pairs: [(String, String)]) throws -> String {
        var text = text
        for (old, new) in pairs {
            guard text.contains(old) else { throw CHOMError(.invalidInput, "the example configuration no longer holds \(old)") }
            text = text.replacingOccurrences(of: old, with: new)
        }
        return text
    }

    /// The shipped examples, pointed at this test's ports and files, with 1 s intervals.
    static func prepare(_ directory: URL, apiPort: Int, prometheusToken: String, alertmanagerTokenFile: String,
                        prometheusPort: Int, alertmanagerPort: Int) throws {
        let config = repository.appendingPathComponent("coordinator-config")
        let tokenFile = directory.appendingPathComponent("prometheus-token")
        try prometheusToken.write(to: tokenFile, atomically: true, encoding: .utf8)
        let prometheus = try replacing(String(contentsOf: config.appendingPathComponent("prometheus.yml"), encoding: .utf8), [
            ("scrape_interval: 15s", "scrape_interval: 1s"), ("scrape_timeout: 10s", "scrape_timeout: 1s"),
            ("evaluation_interval: 15s", "evaluation_interval: 1s"), ("refresh_interval: 30s", "refresh_interval: 1s"),
            ("127.0.0.1:8080", "127.0.0.1:\(apiPort)"), ("127.0.0.1:9093", "127.0.0.1:\(alertmanagerPort)"),
            ("/etc/chom-coordinator/prometheus-token", tokenFile.path),
        ])
        try prometheus.write(to: directory.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
        let alerts = directory.appendingPathComponent("alerts")
        try FileManager.default.createDirectory(at: alerts, withIntermediateDirectories: true)
        let rules = try String(contentsOf: config.appendingPathComponent("alerts/chom.yml"), encoding: .utf8)
            .replacing(/for: [0-9]+[smh]/, with: "for: 0s")
        try rules.write(to: alerts.appendingPathComponent("chom.yml"), atomically: true, encoding: .utf8)
        let alertmanager = try replacing(String(contentsOf: config.appendingPathComponent("alertmanager.yml"), encoding: .utf8), [
            ("group_wait: 30s", "group_wait: 1s"), ("group_interval: 5m", "group_interval: 1s"),
            ("repeat_interval: 4h", "repeat_interval: 1m"), ("127.0.0.1:8080", "127.0.0.1:\(apiPort)"),
            ("/etc/chom-coordinator/alertmanager-token", alertmanagerTokenFile),
        ])
        try alertmanager.write(to: directory.appendingPathComponent("alertmanager.yml"), atomically: true, encoding: .utf8)
    }

    @Test("discovered and scraped; a site whose health check breaks fires CHOMSiteDown into CHOM, filed under its tenant, then resolves")
    func siteDownFiresAndResolves() async throws {
        let token = "am-live-\(UUID().uuidString)"
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("chom-am-\(UUID().uuidString)")
        try token.write(to: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: tokenFile) }
        // Prometheus' port is chosen first: the coordinator reads its tenants' metrics there.
        let prometheusPort = try FreePort.next()
        try await TestCoordinator.with(configure: {
            $0.notifications.alertmanagerTokenFile = tokenFile.path
            $0.observability.prometheusURL = "http://127.0.0.1:\(prometheusPort)"
        }) { coordinator in
            try await TestNginx.with { nginx in
                try await TestAgent.with(coordinator: coordinator, name: "watched-vps", configure: {
                    nginx.host(&$0)
                    $0.siteProbe.interval = .seconds(1)
                }) { agent in
                    try await coordinator.waitOnline([agent.agentID])
                    let site = try await coordinator.createSite(domain: "watched.test")
                    let deployed = try await coordinator.waitForTask(
                        try await coordinator.deploy(site: "watched.test", files: ["public/index.html": "<h1>watched</h1>"]).id)
                    #expect(deployed.state == "succeeded", "\(deployed.message ?? "")")
                    try await nginx.waitForWorkers()
                    let pat = try await coordinator.client.createToken(
                        name: "prometheus", abilities: ["agents:read"], expiresAt: Date().addingTimeInterval(86_400)).token
                    let discovery = try await TestHTTP.request(
                        "GET", coordinator.apiURL.appending(path: "/v1/discovery/prometheus"), token: pat)
                    #expect(discovery.status == 200, "\(discovery.status) \(discovery.text)")
                    try await PrometheusStack.with(prometheusPort: prometheusPort, prepare: { directory, prometheusPort, alertmanagerPort in
                        try Self.prepare(
                            directory, apiPort: coordinator.apiURL.port!, prometheusToken: pat,
                            alertmanagerTokenFile: tokenFile.path, prometheusPort: prometheusPort,
                            alertmanagerPort: alertmanagerPort)
                    }) { stack in
                        // Discovered through the coordinator (with the token) and scraped.
                        try await coordinator.eventually("the agent discovered and up", timeout: .seconds(60)) {
                            try await stack.query(#"up{job="chom-agents"} == 1"#)
                                .contains { $0.labels["chom_agent_id"] == agent.agentID.description }
                        }
                        try await coordinator.eventually("the coordinator scraped", timeout: .seconds(30)) {
                            try await !stack.query(#"chom_coordinator_agent_health_state{health="online"} == 1"#).isEmpty
                        }
                        try await coordinator.eventually("the site's probe series", timeout: .seconds(60)) {
                            try await stack.query(#"chom_site_up{site="watched.test"} == 1"#).first?.labels["tenant"]
                                == site.tenantId
                        }
                        #expect(try await stack.query(#"ALERTS{alertname="CHOMSiteDown"}"#).isEmpty)

                        // The tenant reads its site's health through CHOM, which writes the query.
                        let health = try await coordinator.client.siteMetrics("watched.test", series: "health", range: "1h")
                        #expect(health.stepSeconds == 60 && health.lines.count == 1, "\(health)")
                        #expect(health.lines.first?.points.last?.value == 1 && health.lines.first?.labels == [:], "\(health)")
                        let tenantDisk = try await coordinator.client.tenantMetrics(site.tenantId, series: "health", range: "6h")
                        #expect(tenantDisk.lines.map(\.labels) == [["site": "watched.test"]], "\(tenantDisk)")
                        // Label and PromQL injection in every parameter: refused before Prometheus is asked.
                        let api = RawAPI(coordinator)
                        for (path, status) in [
                            (#"/v1/sites/watched.test/metrics?series=health%22%7D%20or%20vector(1)%20%23"#, 400),
                            (#"/v1/sites/watched.test/metrics?series=health&range=1h%5D%20or%20up%5B5m"#, 400),
                            (#"/v1/sites/watched.test/metrics?series=up&range=1h"#, 400),
                            (#"/v1/sites/watched.test%22,tenant=~%22.%2A/metrics?series=health"#, 404),
                            (#"/v1/tenants/\#(site.tenantId)%22%7D%20or%20up%7B/metrics?series=health"#, 404),
                        ] {
                            let reply = try await api.send("GET", path, token: coordinator.operatorToken)
                            #expect(reply.status == status, "\(path): \(reply.status) \(reply.text)")
                        }

                        // Every query of the Grafana dashboards parses and answers (or is listed as
                        // expected-empty, with its reason). Rates need two scrapes: retried briefly.
                        let variables = ["agent": agent.agentID.description, "tenant": site.tenantId, "site": "watched.test"]
                        try? await coordinator.eventually("the dashboards' queries answer", timeout: .seconds(30)) {
                            try await GrafanaDashboards.checkAgainst(stack, variables: variables, repositoryRoot: Self.repository)
                                .problems.isEmpty
                        }
                        let dashboards = try await GrafanaDashboards.checkAgainst(
                            stack, variables: variables, repositoryRoot: Self.repository)
                        #expect(dashboards.problems.isEmpty, "\(dashboards.problems.joined(separator: "\n"))")
                        if !dashboards.notes.isEmpty { print("Grafana dashboards:\n" + dashboards.notes.joined(separator: "\n")) }

                        // Broken: the health check now asks for a page the site does not have.
                        let broken = try await coordinator.client.configureSite(
                            "watched.test", SiteConfigRequest(kind: "static", healthCheck: HealthCheckBody(path: "/healthz")))
                        #expect(try await coordinator.waitForTask(broken.task.id).state == "succeeded")
                        try await coordinator.eventually("CHOMSiteDown in Alertmanager", timeout: .seconds(90)) {
                            try await stack.alertmanagerAlerts().contains {
                                $0.labels["alertname"] == "CHOMSiteDown" && $0.labels["site"] == "watched.test"
                                    && $0.state == "active"
                            }
                        }
                        try await coordinator.eventually("CHOMSiteDown delivered to CHOM", timeout: .seconds(60)) {
                            try await coordinator.client.alerts(status: "firing", site: "watched.test")
                                .contains { $0.alertname == "CHOMSiteDown" }
                        }
                        let firing = try #require(try await coordinator.client.alerts(site: "watched.test").first)
                        #expect(firing.tenantId == site.tenantId && firing.severity == "critical", "\(firing)")
                        #expect(firing.runbook.contains("chom sites logs watched.test"), "\(firing.runbook)")
                        // Audited (the owners' email is AlertReceiverTests'; this organization has none).
                        let audited = try await coordinator.client.allAuditEntries(AuditFilter(action: "alert.firing"))
                        #expect(audited.contains { $0.target == "site:\(site.id)" && $0.actor == "alertmanager" }, "\(audited)")

                        // Fixed: back to the page it has; the alert resolves in CHOM.
                        let fixed = try await coordinator.client.configureSite(
                            "watched.test", SiteConfigRequest(kind: "static", healthCheck: HealthCheckBody(path: "/")))
                        #expect(try await coordinator.waitForTask(fixed.task.id).state == "succeeded")
                        try await coordinator.eventually("CHOMSiteDown resolved in CHOM", timeout: .seconds(90)) {
                            try await coordinator.client.alerts(site: "watched.test")
                                .contains { $0.alertname == "CHOMSiteDown" && $0.status == "resolved" && $0.endsAt != nil }
                        }
                        #expect(try await coordinator.client.alerts(status: "firing", site: "watched.test").isEmpty)
                    }
                }
            }
        }
    }
}
