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

/// Dunning end to end through real nginx: a failed payment makes the organization past due, the
/// grace passes and every site answers 503 with the reason "billing"; a payment brings them back,
/// except a site an admin suspended, which stays suspended.
@Suite(
    "Dunning end to end", .enabled(if: getuid() == 0 && TestNginx.binary != nil, "needs root (site users) and nginx"))
struct DunningEndToEndTests {
    @Test("failed payment → past due → grace passes → sites serve 503; paid → they serve again, the admin's suspension stays")
    func dunning() async throws {
        let clock = ManualWallClock(Date())
        try await SMTPTestServer.with { smtp in
        try await TestCoordinator.with(clock: clock, configure: { configuration in
            var mail = CoordinatorConfiguration.Notifications.SMTP()
            mail.port = smtp.port
            mail.from = "billing@chom.test"
            configuration.notifications.smtp = mail
            configuration.notifications.deliveryIntervalSeconds = 0.2
            configuration.fleet.failoverEnabled = false  // A day's jump is silence: not a failure here.
            configuration.auth.sessionTTLSeconds = 30 * 86_400
            configuration.billing.closeIntervalSeconds = 1
            configuration.billing.graceDays = 1
        }) { coordinator in
            try await TestNginx.with { nginx in
                try await TestAgent.with(coordinator: coordinator, name: "dunning-vps", clock: clock, configure: nginx.host) { agent in
                    try await coordinator.waitOnline([agent.agentID])
                    for domain in ["paying.test", "held.test"] {
                        _ = try await coordinator.createSite(domain: domain)
                        let deployed = try await coordinator.waitForTask(
                            try await coordinator.deploy(site: domain, files: ["public/index.html": "<h1>\(domain)</h1>"]).id)
                        #expect(deployed.state == "succeeded", "\(deployed.message ?? "")")
                    }
                    try await nginx.waitForWorkers()
                    let check = HealthCheck(port: nginx.port, timeout: .seconds(5))
                    func status(_ domain: String) async -> Int { (try? await check.get(host: domain).status) ?? 0 }
                    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
                        try await coordinator.eventually(what, timeout: .seconds(60), condition)
                    }
                    #expect(await status("paying.test") == 200)
                    // An admin suspends one site for reasons of their own.
                    let held = try await coordinator.waitForTask(try await coordinator.client.suspend(site: "held.test").id)
                    #expect(held.state == "succeeded")
                    try await eventually("held.test answers 503") { await status("held.test") == 503 }

                    // An open invoice of the organization, as a period close leaves it.
                    let organization = try #require(try await coordinator.client.allOrganizations().first { $0.name == "tests" })
                    // The operator owns it, so the owners' emails go to the operator's address.
                    try await TestDatabase.execute("""
                        INSERT INTO memberships (organization_id, user_id, role, created_at, updated_at)
                        SELECT '\(organization.id)', id, 'owner', now(), now() FROM users WHERE email = '\(TestCoordinator.operatorEmail)'
                        """, dataDirectory: coordinator.dataDirectory)
                    let invoice = UUID().uuidString.lowercased()
                    try await TestDatabase.execute("""
                        INSERT INTO invoices (id, organization_id, issuer, number, status, period_start, period_end, plan_code,
                            currency, total_minor, finalized_at)
                        VALUES ('\(invoice)', '\(organization.id)', 'CHOM', 1, 'open', now() - interval '31 days',
                            now() - interval '1 day', 'unmetered', 'EUR', 2900, now())
                        """, dataDirectory: coordinator.dataDirectory)

                    let failed = try await coordinator.client.recordPayment(
                        organizationID: organization.id, invoiceID: invoice, status: "failed")
                    #expect(failed.status == "open")
                    var billing = try await coordinator.client.billing(organizationID: organization.id)
                    #expect(billing.subscription.status == "past_due")
                    let graceEnds = try #require(billing.subscription.graceEndsAt)
                    #expect(abs(graceEnds.timeIntervalSince(clock.now().addingTimeInterval(86_400))) < 1, "the API keeps whole seconds")
                    // Within the grace the sites serve.
                    try await Task.sleep(for: .seconds(2))
                    #expect(await status("paying.test") == 200)

                    clock.advance(by: 86_401)
                    try await eventually("the subscription is suspended") {
                        try await coordinator.client.billing(organizationID: organization.id).subscription.status == "suspended"
                    }
                    try await eventually("paying.test answers 503 (billing)") { await status("paying.test") == 503 }
                    // The reconciler suspends site by site in id order: held.test may come after paying.test.
                    try await eventually("both sites are held for billing") {
                        try await TestDatabase.count("""
                            SELECT count(*) FROM sites WHERE domain IN ('paying.test', 'held.test') AND 'billing' = ANY(suspension_reasons)
                            """, dataDirectory: coordinator.dataDirectory) == 2
                    }
                    // New sites are not placed for a suspended organization.
                    await #expect(throws: AdminClientError.self) { _ = try await coordinator.createSite(domain: "new.test") }

                    let paid = try await coordinator.client.recordPayment(
                        organizationID: organization.id, invoiceID: invoice, status: "paid")
                    #expect(paid.status == "paid" && paid.paidAt != nil)
                    billing = try await coordinator.client.billing(organizationID: organization.id)
                    #expect(billing.subscription.status == "active" && billing.subscription.graceEndsAt == nil)
                    try await eventually("paying.test serves again") { await status("paying.test") == 200 }
                    try await eventually("the billing reason is lifted from both sites") {
                        try await TestDatabase.count(
                            "SELECT count(*) FROM sites WHERE 'billing' = ANY(suspension_reasons)",
                            dataDirectory: coordinator.dataDirectory) == 0
                    }
                    #expect(await status("held.test") == 503, "the admin's suspension holds")
                    // Paid twice is a conflict and changes nothing.
                    await #expect(throws: AdminClientError.self) {
                        _ = try await coordinator.client.recordPayment(organizationID: organization.id, invoiceID: invoice, status: "paid")
                    }
                    let transitions = try await TestDatabase.count("""
                        SELECT count(*) FROM audit_entries WHERE organization_id = '\(organization.id)'
                          AND action IN ('billing.subscription.past_due', 'billing.subscription.suspended', 'billing.subscription.reactivated')
                        """, dataDirectory: coordinator.dataDirectory)
                    #expect(transitions == 3)
                    // Each transition's email reached the organization's owner through the outbox.
                    let mail = try await smtp.waitForMessages(3)
                    #expect(mail.compactMap { $0.headers["subject"] }.sorted() == [
                        "[CHOM] Payment failed: action needed", "[CHOM] Payment received: subscription active",
                        "[CHOM] Sites suspended for an unpaid invoice",
                    ])
                    #expect(mail.allSatisfy { $0.headers["to"] == TestCoordinator.operatorEmail && $0.body.contains("tests") })
                }
            }
        }
        }
    }
}
