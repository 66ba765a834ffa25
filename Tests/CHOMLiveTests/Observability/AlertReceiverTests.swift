import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import Testing

/// CHOM's Alertmanager receiver and `GET /v1/alerts`, against a live coordinator with two
/// organizations: deliveries as Alertmanager sends them (webhook version 4).
@Suite("Alerts: Alertmanager's receiver files a site's alert under its tenant; each caller sees its own")
struct AlertReceiverTests {
    static let token = "am-test-\(UUID().uuidString)"

    static func tokenFile() -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("chom-am-\(UUID().uuidString).token")
        try? Data(token.utf8).write(to: file)
        return file.path
    }

    /// A delivery body with one alert per entry: (labels, status, summary).
    static func delivery(_ alerts: [(labels: [String: String], status: String, summary: String)], startsAt: String) -> Data {
        let items = alerts.map { alert -> [String: Any] in
            [
                "status": alert.status, "labels": alert.labels,
                "annotations": ["summary": alert.summary, "runbook": "do the thing", "description": "line one\r\nSubject: x"],
                "startsAt": startsAt, "endsAt": alert.status == "firing" ? "0001-01-01T00:00:00Z" : "2026-12-05T01:10:00.5Z",
                "fingerprint": String(format: "%016llx", UInt64(truncatingIfNeeded: alert.labels.sorted { $0.key < $1.key }.description.hashValue)),
            ]
        }
        return try! JSONSerialization.data(withJSONObject: ["version": "4", "status": "firing", "receiver": "chom", "alerts": items])
    }

    static func post(_ coordinator: TestCoordinator, _ body: Data, token: String? = Self.token) async throws -> TestHTTP.Reply {
        try await TestHTTP.request(
            "POST", coordinator.apiURL.appending(path: "/v1/alerts/alertmanager"), token: token, body: body)
    }

    @Test("a site's alert reaches its organization only (audited, owners emailed once); a mislabelled or fleet alert stays with operators")
    func filedUnderTheTenant() async throws {
        try await TestCoordinator.with(configure: { $0.notifications.alertmanagerTokenFile = Self.tokenFile() }) { coordinator in
            try await IdentityFixtures.addAgent(coordinator)
            let alpha = try await IdentityFixtures.organization(coordinator, name: "Alpha", operatorToken: coordinator.operatorToken)
            let bravo = try await IdentityFixtures.organization(coordinator, name: "Bravo", operatorToken: coordinator.operatorToken)
            let api = RawAPI(coordinator)
            let siteDown = ["alertname": "CHOMSiteDown", "severity": "critical", "site": alpha.domain, "tenant": alpha.tenantID]
            // Alpha's site named with Bravo's tenant: it matches no site, so it reaches neither.
            let mislabelled = ["alertname": "CHOMSiteDown", "severity": "critical", "site": alpha.domain, "tenant": bravo.tenantID]
            let fleet = ["alertname": "CHOMAgentDiskAlmostFull", "severity": "warning", "chom_agent_id": "a1", "mount": "/"]
            // Alpha's site and tenant exported by an agent that does not host it (a compromised one).
            let forged = [
                "alertname": "CHOMSiteDown", "severity": "critical", "site": alpha.domain, "tenant": alpha.tenantID,
                "chom_agent_id": UUID().uuidString.lowercased(), "instance": "evil:9464",
            ]
            let start = "2026-12-05T01:02:03.123456789Z"
            let firing = Self.delivery(
                [
                    (siteDown, "firing", "Alpha is down"), (mislabelled, "firing", "mislabelled"), (fleet, "firing", "disk"),
                    (forged, "firing", "forged"),
                ],
                startsAt: start)

            // Without Alertmanager's token, or with a user's, nothing is stored.
            for token in [nil, "wrong-token-of-enough-length-xxxxxxxxxxxx", coordinator.operatorToken] {
                let refused = try await Self.post(coordinator, firing, token: token)
                #expect(refused.status == 401, "\(refused.status) \(refused.text)")
            }
            #expect(try await TestDatabase.count("SELECT count(*) FROM alerts", dataDirectory: coordinator.dataDirectory) == 0)
            // Malformed deliveries are refused with a clear error and store nothing.
            for (body, words) in [
                (Data("{}".utf8), "alerts is missing"),
                (Data(#"{"version":"3","alerts":[]}"#.utf8), "version 3"),
                (Self.delivery([(["alertname": "Bad\r\nBcc: x"], "firing", "x")], startsAt: start), "alertname"),
                (Self.delivery([(["alertname": "A", "bad-name": "x"], "firing", "x")], startsAt: start), "label name"),
                (Self.delivery([(["alertname": "A"], "firing", "x")], startsAt: "yesterday"), "startsAt"),
            ] {
                let reply = try await Self.post(coordinator, body)
                #expect(reply.status == 400 && reply.text.contains(words), "\(reply.status) \(reply.text)")
            }
            #expect(try await TestDatabase.count("SELECT count(*) FROM alerts", dataDirectory: coordinator.dataDirectory) == 0)

            let first = try await Self.post(coordinator, firing)
            // Alertmanager's nanoseconds are kept to PostgreSQL's microsecond.
            #expect(try await TestDatabase.count(
                "SELECT count(*) FROM alerts WHERE starts_at BETWEEN '2026-12-05T01:02:03.123455Z' AND '2026-12-05T01:02:03.123458Z'",
                dataDirectory: coordinator.dataDirectory) == 4)
            #expect(first.status == 200, "\(first.text)")
            #expect(try first.json()["firing"] as? Int == 4)
            // Alertmanager repeats a firing alert: nothing new happens.
            let repeated = try await Self.post(coordinator, firing)
            #expect(try repeated.json()["firing"] as? Int == 0 && repeated.json()["received"] as? Int == 4, "\(repeated.text)")

            // Alpha's people see Alpha's alert, and only it.
            for person in alpha.people {
                let alerts = try await coordinator.client(token: person.token).alerts()
                #expect(alerts.map(\.summary) == ["Alpha is down"], "\(person.email): \(alerts)")
                #expect(alerts.first?.site == alpha.domain && alerts.first?.tenantId == alpha.tenantID)
                #expect(alerts.first?.severity == "critical" && alerts.first?.status == "firing")
                // The API's times are whole seconds.
                #expect(alerts.first?.startsAt == Date(timeIntervalSince1970: 1_796_432_523))
            }
            // Bravo's see nothing, not even through Alpha's site by name.
            for person in bravo.people {
                let reply = try await api.send("GET", "/v1/alerts", token: person.token)
                #expect(reply.status == 200 && !reply.text.contains(alpha.domain) && !reply.text.contains("mislabelled"), "\(reply.text)")
                let bySite = try await api.send("GET", "/v1/alerts?site=\(alpha.domain)", token: person.token)
                #expect(bySite.status == 404 && !bySite.text.contains("Alpha is down"), "\(bySite.text)")
            }
            // The operator sees all four; the mislabelled, the forged and the agent's are the fleet's.
            let all = try await coordinator.client.alerts()
            #expect(Set(all.map(\.summary)) == ["Alpha is down", "mislabelled", "disk", "forged"])
            #expect(all.filter { $0.tenantId == nil }.map(\.summary).sorted() == ["disk", "forged", "mislabelled"])
            // Pages of one (the four were stored at the same instant) list each alert exactly once.
            var paged: [String] = [], cursor: String?
            repeat {
                let page = try await api.send(
                    "GET", "/v1/alerts?limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""), token: coordinator.operatorToken)
                let json = try page.json()
                paged += ((json["items"] as? [[String: Any]]) ?? []).compactMap { $0["summary"] as? String }
                cursor = json["nextCursor"] as? String
            } while cursor != nil && paged.count < 10
            #expect(paged.sorted() == ["Alpha is down", "disk", "forged", "mislabelled"], "\(paged)")
            // A cursor that is not one the server issued is refused, whatever number it holds.
            for text in ["nan", "inf", "1e300", "9999999999999999999.x", "-1.\(UUID())"] {
                let cursor = Data(text.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
                    .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                let reply = try await api.send("GET", "/v1/alerts?cursor=\(cursor)", token: coordinator.operatorToken)
                #expect(reply.status == 400, "\(text): \(reply.status) \(reply.text)")
            }
            // Tenants do not see the fleet's machinery in labels.
            let alphaLabels = try await coordinator.client(token: alpha.owner.token).alerts().first?.labels ?? [:]
            #expect(alphaLabels["site"] == alpha.domain && alphaLabels["instance"] == nil)
            #expect(try await coordinator.client.alerts(status: "resolved").isEmpty)
            #expect(try await coordinator.client.alerts(site: alpha.domain).map(\.summary) == ["Alpha is down"])

            // Owners were told once, with the annotations on their own lines (no header injection).
            func outbox(_ event: String) async throws -> Int {
                try await TestDatabase.count("""
                    SELECT count(*) FROM notification_outbox WHERE event = '\(event)' AND organization_id = '\(alpha.id)'
                      AND recipient = '\(alpha.owner.email)'
                    """, dataDirectory: coordinator.dataDirectory)
            }
            #expect(try await outbox("alert.firing") == 1)
            #expect(try await TestDatabase.count("""
                SELECT count(*) FROM notification_outbox WHERE event = 'alert.firing'
                  AND subject = '[CHOM] Firing: CHOMSiteDown on \(alpha.domain)' AND body LIKE '%Details: line one  Subject: x%'
                  AND position(E'\\r' in body) = 0
                """, dataDirectory: coordinator.dataDirectory) == 1)
            #expect(try await TestDatabase.count(
                "SELECT count(*) FROM notification_outbox WHERE organization_id = '\(bravo.id)'",
                dataDirectory: coordinator.dataDirectory) == 0)

            // Resolved: audited, told once, listed as resolved with its end.
            let resolved = try await Self.post(coordinator, Self.delivery([(siteDown, "resolved", "Alpha is down")], startsAt: start))
            #expect(try resolved.json()["resolved"] as? Int == 1, "\(resolved.text)")
            _ = try await Self.post(coordinator, Self.delivery([(siteDown, "resolved", "Alpha is down")], startsAt: start))
            #expect(try await outbox("alert.resolved") == 1)
            let after = try await coordinator.client(token: alpha.viewer.token).alerts(status: "resolved")
            #expect(after.count == 1 && after.first?.endsAt != nil, "\(after)")
            #expect(try await coordinator.client(token: alpha.viewer.token).alerts(status: "firing").isEmpty)
            let audited = try await coordinator.client.allAuditEntries(AuditFilter(actor: "alertmanager"))
            #expect(audited.map(\.action).sorted() == ["alert.firing", "alert.firing", "alert.firing", "alert.firing", "alert.resolved"])
        }
    }
}
