import CHOMAPI
import CHOMAgent
@testable import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import Logging
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Billing through a real, stateful Stripe server (localstripe) end to end, with an agent over
/// mTLS, real nginx and a real SMTP server: the organization is linked to a Stripe customer and
/// subscription, the period closes, CHOM's invoice is pushed as invoice items and charged to a card
/// that fails (4000000000000341), Stripe's signed webhook makes the subscription past due, the grace
/// passes and the sites answer 503; the customer pays with a good card, the webhook brings the
/// sites back, and every transition's email reaches the owner.
@Suite(
    "Stripe end to end (localstripe)",
    .enabled(if: getuid() == 0 && TestNginx.binary != nil, "needs root (site users) and nginx"))
struct StripeEndToEndTests {
    static let webhookSecret = "whsec_chom_localstripe_test"

    static func text(_ sql: String, _ coordinator: TestCoordinator) async throws -> String? {
        try await TestDatabase.withClient(dataDirectory: coordinator.dataDirectory) { client in
            for try await value in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(String?.self) { return value }
            return nil
        }
    }

    @Test("linked, invoiced, card declined → past due → grace → 503; paid at Stripe → served; emails sent")
    func dunningThroughStripe() async throws {
        try await LocalStripeServer.with { stripe in
        try await SMTPTestServer.with { smtp in
            // The Stripe price the plan's subscriptions are on (zero: CHOM's invoice lines are the charges).
            try await stripe.post("/v1/plans", [
                ("id", "chom-basic"), ("amount", "0"), ("currency", "eur"), ("interval", "month"), ("product[name]", "Basic"),
            ])
            // The secrets are sealed into the coordinator's database before it starts, as
            // `chom-coordinator stripe-configure` does.
            let directory = try TemporaryDirectory.make(prefix: "chom-coord-stripe")
            defer { TemporaryDirectory.remove(directory) }
            let keyFile = directory.appendingPathComponent("sk").path
            try Data(stripe.secretKey.utf8).write(to: URL(fileURLWithPath: keyFile))
            try await Maintenance.configureStripe(
                TestCoordinator.configuration(directory: directory), logger: Logger(label: "chom.test.stripe"),
                apiBase: stripe.base, secretKey: stripe.secretKey, webhookSecret: Self.webhookSecret)
            let clock = ManualWallClock(Date())
            try await TestCoordinator.with(dataDirectory: directory, clock: clock, configure: { configuration in
                configuration.auth.sessionTTLSeconds = 30 * 86_400
                configuration.billing.closeIntervalSeconds = 1
                configuration.billing.closeDelaySeconds = 0
                configuration.billing.graceDays = 60.0 / 86_400  // one minute of the manual clock
                var basic = CoordinatorConfiguration.Billing.PlanTerms(
                    code: "basic", name: "Basic", currency: "EUR", monthlyPriceMinor: 2_900)
                basic.stripePriceId = "chom-basic"
                configuration.billing.defaultPlan = basic
                var mail = CoordinatorConfiguration.Notifications.SMTP()
                mail.port = smtp.port
                mail.from = "billing@chom.test"
                configuration.notifications.smtp = mail
                configuration.notifications.deliveryIntervalSeconds = 0.2
            }) { coordinator in
                try await stripe.registerWebhook(
                    url: coordinator.apiURL.absoluteString + "/v1/billing/stripe/webhook", secret: Self.webhookSecret)
                try await TestNginx.with { nginx in
                try await TestAgent.with(coordinator: coordinator, name: "stripe-vps", clock: clock, configure: nginx.host) { agent in
                    try await coordinator.waitOnline([agent.agentID])
                    _ = try await coordinator.createSite(domain: "shop.test")
                    let deployed = try await coordinator.waitForTask(
                        try await coordinator.deploy(site: "shop.test", files: ["public/index.html": "<h1>shop</h1>"]).id)
                    #expect(deployed.state == "succeeded", "\(deployed.message ?? "")")
                    try await nginx.waitForWorkers()
                    let check = HealthCheck(port: nginx.port, timeout: .seconds(5))
                    func status() async -> Int { (try? await check.get(host: "shop.test").status) ?? 0 }
                    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
                        try await coordinator.eventually(what, timeout: .seconds(60), condition)
                    }
                    #expect(await status() == 200)
                    let organization = try #require(try await coordinator.client.allOrganizations().first { $0.name == "tests" })
                    try await TestDatabase.execute("""
                        INSERT INTO memberships (organization_id, user_id, role, created_at, updated_at)
                        SELECT '\(organization.id)', id, 'owner', now(), now() FROM users WHERE email = '\(TestCoordinator.operatorEmail)'
                        """, dataDirectory: coordinator.dataDirectory)

                    // 1. Linked: a Stripe customer and a subscription on the plan's price, made once.
                    var customer: String?
                    try await eventually("the organization is linked to Stripe") {
                        customer = try await Self.text("""
                            SELECT stripe_customer_id FROM billing_subscriptions
                            WHERE organization_id = '\(organization.id)' AND stripe_subscription_id IS NOT NULL
                            """, coordinator)
                        return customer != nil
                    }
                    let customerID = try #require(customer)
                    let customers = try await stripe.get("/v1/customers?limit=100")["data"] as? [[String: Any]] ?? []
                    #expect(customers.count == 1 && customers.first?["name"] as? String == "tests")
                    let subscriptions = try await stripe.get("/v1/subscriptions?limit=100")["data"] as? [[String: Any]] ?? []
                    #expect(subscriptions.count == 1)
                    // The customer's card is one that attaches and then declines every charge.
                    try await stripe.setCard(customer: customerID, number: "4000000000000341")

                    // 2. The period ends and closes: CHOM's invoice goes to Stripe and the charge is declined.
                    let end = clock.now().addingTimeInterval(-60)
                    try await TestDatabase.execute("""
                        UPDATE billing_subscriptions SET period_start = '\(end.addingTimeInterval(-30 * 86_400).formatted(.iso8601))',
                            period_end = '\(end.formatted(.iso8601))' WHERE organization_id = '\(organization.id)'
                        """, dataDirectory: coordinator.dataDirectory)
                    var stripeInvoice: String?
                    try await eventually("the closed invoice is sent to Stripe") {
                        stripeInvoice = try await Self.text("""
                            SELECT stripe_invoice_id FROM invoices WHERE organization_id = '\(organization.id)'
                              AND stripe_collected_at IS NOT NULL
                            """, coordinator)
                        return stripeInvoice != nil
                    }
                    let invoices = try await coordinator.client.invoices(organizationID: organization.id).items
                    #expect(invoices.count == 1)
                    let invoice = try #require(invoices.first)
                    let remote = try await stripe.get("/v1/invoices/\(try #require(stripeInvoice))")
                    #expect((remote["total"] as? NSNumber)?.int64Value == invoice.totalMinor,
                            "Stripe's invoice totals CHOM's: \(remote["total"] ?? "nil") vs \(invoice.totalMinor)")
                    #expect(invoice.totalMinor > 0)
                    #expect(remote["status"] as? String == "open")
                    try await eventually("the declined charge's webhook makes the subscription past due") {
                        try await coordinator.client.billing(organizationID: organization.id).subscription.status == "past_due"
                    }
                    #expect(await status() == 200, "within the grace the site serves")

                    // 3. The grace passes: suspended, the site answers 503.
                    clock.advance(by: 61)
                    try await eventually("the subscription is suspended") {
                        try await coordinator.client.billing(organizationID: organization.id).subscription.status == "suspended"
                    }
                    try await eventually("shop.test answers 503 (billing)") { await status() == 503 }

                    // 4. The customer pays at Stripe with a good card: the webhook brings the site back.
                    try await stripe.setCard(customer: customerID, number: "4242424242424242")
                    let paid = try await stripe.post("/v1/invoices/\(try #require(stripeInvoice))/pay")
                    #expect(paid["status"] as? String == "paid")
                    try await eventually("the invoice is paid in CHOM and the subscription active") {
                        let billing = try await coordinator.client.billing(organizationID: organization.id)
                        let invoice = try await coordinator.client.invoices(organizationID: organization.id).items.first
                        return billing.subscription.status == "active" && invoice?.status == "paid"
                    }
                    try await eventually("shop.test serves again") { await status() == 200 }

                    // Nothing was made twice at Stripe, and each transition was emailed to the owner.
                    #expect(try await TestDatabase.count(
                        "SELECT count(*) FROM stripe_events", dataDirectory: coordinator.dataDirectory) >= 2)
                    let mail = try await smtp.waitForMessages(3)
                    #expect(Set(mail.compactMap { $0.headers["subject"] }) == [
                        "[CHOM] Payment failed: action needed", "[CHOM] Sites suspended for an unpaid invoice",
                        "[CHOM] Payment received: subscription active",
                    ])
                    #expect((try await stripe.get("/v1/customers?limit=100")["data"] as? [[String: Any]] ?? []).count == 1)
                    #expect((try await stripe.get("/v1/subscriptions?limit=100")["data"] as? [[String: Any]] ?? []).count == 1)
                }
                }
            }
        }
        }
    }
}
