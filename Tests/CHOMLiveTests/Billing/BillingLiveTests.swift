import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import Testing

/// Billing through the real API and PostgreSQL: quotas where the work starts (sites, members,
/// backups), the subscription's plan changes with their proration, and who may see an
/// organization's billing.
@Suite("Billing: quotas, plan changes and who sees an organization's bill", .serialized)
struct BillingLiveTests {
    static let quotaType = "https://chom.dev/problems/quota-exceeded"

    static func plan(_ code: String, _ minor: Int64, sites: Int64? = nil, members: Int64? = nil, hardGB: Int64? = nil)
        -> PlanRequest
    {
        var request = PlanRequest(code: code, name: code.capitalized, currency: "EUR", monthlyPriceMinor: minor)
        request.includedSites = sites
        request.includedMembers = members
        request.storageHardLimitGB = hardGB
        request.overage = ["bandwidth_bytes": 3]
        return request
    }

    @Test("the 11th site on a 10-site plan and an invitation past the members are refused with quota-exceeded; nothing is made")
    func quotas() async throws {
        try await TestCoordinator.with { coordinator in
            try await IdentityFixtures.addAgent(coordinator)
            let organization = try await IdentityFixtures.organization(
                coordinator, name: "Quota", operatorToken: coordinator.operatorToken)
            // Four members and one open invitation so far; one site.
            _ = try await coordinator.client.createPlan(Self.plan("ten", 1_000, sites: 10, members: 6))
            let owner = coordinator.client(token: organization.owner.token)
            let subscription = try await owner.changeSubscription(organizationID: organization.id, plan: "ten")
            #expect(subscription.plan == "ten" && subscription.status == "active")
            for index in 2...10 {
                _ = try await owner.createSite(tenantID: organization.tenantID, domain: "s\(index).quota.test")
            }
            let api = RawAPI(coordinator)
            let refused = try await api.send(
                "POST", "/v1/tenants/\(organization.tenantID)/sites", token: organization.owner.token,
                json: ["domain": "eleven.quota.test"])
            #expect(refused.status == 403, "\(refused.text)")
            #expect(refused.headers["content-type"]?.hasPrefix("application/problem+json") == true)
            let body = try refused.json()
            #expect(body["type"] as? String == Self.quotaType)
            #expect(body["quota"] as? String == "sites")
            #expect(body["limit"] as? Int == 10 && body["usage"] as? Int == 10, "\(refused.text)")
            #expect(IdentityFixtures.detail(refused).contains("ten"), "\(refused.text)")
            #expect(try await TestDatabase.count(
                "SELECT count(*) FROM sites WHERE domain = 'eleven.quota.test'", dataDirectory: coordinator.dataDirectory) == 0)
            // An operator is held to the organization's plan too.
            let byOperator = try await api.send(
                "POST", "/v1/tenants/\(organization.tenantID)/sites", token: coordinator.operatorToken,
                json: ["domain": "operator.quota.test"])
            let operatorType = try byOperator.json()["type"] as? String
            #expect(byOperator.status == 403 && operatorType == Self.quotaType, "\(byOperator.text)")

            // Members: 4 members + 1 open invitation of 6 allowed; one more fits, the next is refused.
            _ = try await owner.createInvitation(organizationID: organization.id, email: "sixth@quota.test", role: "viewer")
            let seventh = try await api.send(
                "POST", "/v1/organizations/\(organization.id)/invitations", token: organization.owner.token,
                json: ["email": "seventh@quota.test", "role": "viewer"])
            #expect(seventh.status == 403, "\(seventh.text)")
            let members = try seventh.json()
            #expect(members["quota"] as? String == "members" && members["limit"] as? Int == 6 && members["usage"] as? Int == 6)
            #expect(try await TestDatabase.count(
                "SELECT count(*) FROM invitations WHERE email = 'seventh@quota.test'", dataDirectory: coordinator.dataDirectory) == 0)
            // Revoking an open invitation frees its place.
            let open = try await owner.allInvitations(organizationID: organization.id)
            let sixth = try #require(open.first { $0.email == "sixth@quota.test" })
            try await owner.deleteInvitation(organizationID: organization.id, invitationID: sixth.id)
            _ = try await owner.createInvitation(organizationID: organization.id, email: "seventh@quota.test", role: "viewer")

            // The owner's billing shows the counts against the plan.
            let billing = try await owner.billing(organizationID: organization.id)
            #expect(billing.usage.sites == 10 && billing.usage.members == 6)
            #expect(billing.plan.includedSites == 10 && billing.plan.includedMembers == 6)
        }
    }

    @Test("20 concurrent creates at the limit: exactly the limit is created, the rest refused with quota-exceeded")
    func concurrentCreates() async throws {
        try await TestCoordinator.with { coordinator in
            try await IdentityFixtures.addAgent(coordinator)
            let organization = try await IdentityFixtures.organization(
                coordinator, name: "Race", operatorToken: coordinator.operatorToken)
            _ = try await coordinator.client.createPlan(Self.plan("five", 500, sites: 5))
            _ = try await coordinator.client(token: organization.owner.token)
                .changeSubscription(organizationID: organization.id, plan: "five")
            let api = RawAPI(coordinator)
            let statuses = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let reply = try await api.send(
                            "POST", "/v1/tenants/\(organization.tenantID)/sites", token: organization.owner.token,
                            json: ["domain": "r\(index).race.test"])
                        return (reply.status, reply.status == 403 ? (try reply.json()["type"] as? String ?? "") : "")
                    }
                }
                return try await group.reduce(into: [(Int, String)]()) { $0.append($1) }
            }
            // The fixture's site and 4 of the 20.
            #expect(statuses.filter { $0.0 == 201 }.count == 4, "\(statuses)")
            #expect(statuses.filter { $0.0 == 403 && $0.1 == Self.quotaType }.count == 16, "\(statuses)")
            #expect(try await TestDatabase.count("""
                SELECT count(*) FROM sites s JOIN tenants t ON t.id = s.tenant_id
                WHERE t.organization_id = '\(organization.id)' AND s.state NOT IN ('removing', 'removed')
                """, dataDirectory: coordinator.dataDirectory) == 5)
        }
    }

    @Test("a suspended subscription places no new site; kept backups at the storage hard limit refuse a new backup")
    func suspendedAndStorage() async throws {
        try await TestCoordinator.with { coordinator in
            try await IdentityFixtures.addAgent(coordinator)
            let organization = try await IdentityFixtures.organization(
                coordinator, name: "Held", operatorToken: coordinator.operatorToken)
            let api = RawAPI(coordinator)
            // Storage: a plan whose hard limit is 1 GB takes a backup while the kept ones are under it.
            _ = try await coordinator.client.createPlan(Self.plan("small", 100, hardGB: 1))
            let owner = coordinator.client(token: organization.owner.token)
            _ = try await owner.changeSubscription(organizationID: organization.id, plan: "small")
            try await IdentityFixtures.addBackup(coordinator, site: organization.siteID, tenant: organization.tenantID)
            let allowed = try await api.send("POST", "/v1/sites/\(organization.siteID)/backups", token: organization.owner.token)
            #expect(allowed.status == 202, "\(allowed.text)")
            // Kept backups now reach the limit (1 GB of bytes).
            try await TestDatabase.execute(
                "UPDATE backups SET size_bytes = 1000000000 WHERE site_id = '\(organization.siteID)' AND state = 'succeeded'",
                dataDirectory: coordinator.dataDirectory)
            let before = try await TestDatabase.count(
                "SELECT count(*) FROM backups WHERE site_id = '\(organization.siteID)'", dataDirectory: coordinator.dataDirectory)
            let refused = try await api.send("POST", "/v1/sites/\(organization.siteID)/backups", token: organization.owner.token)
            #expect(refused.status == 403, "\(refused.text)")
            let body = try refused.json()
            #expect(body["type"] as? String == Self.quotaType && body["quota"] as? String == "storage")
            #expect(body["limit"] as? Int == 1_000_000_000, "\(refused.text)")
            #expect(try await TestDatabase.count(
                "SELECT count(*) FROM backups WHERE site_id = '\(organization.siteID)'", dataDirectory: coordinator.dataDirectory)
                == before)

            // Suspended for billing: no new site, with a clear reason.
            try await TestDatabase.execute(
                "UPDATE billing_subscriptions SET status = 'suspended' WHERE organization_id = '\(organization.id)'",
                dataDirectory: coordinator.dataDirectory)
            let suspended = try await api.send(
                "POST", "/v1/tenants/\(organization.tenantID)/sites", token: organization.owner.token,
                json: ["domain": "new.held.test"])
            #expect(suspended.status == 403, "\(suspended.text)")
            #expect(IdentityFixtures.detail(suspended).contains("suspended"), "\(suspended.text)")
        }
    }

    @Test("a mid-month upgrade: the projected invoice is the hand-computed one; another organization and an admin cannot see it")
    func projectedInvoiceAndAccess() async throws {
        // 2026-11-16 00:00 UTC: the organizations' first period runs to December 1st, 360 hours.
        let clock = ManualWallClock(Date(timeIntervalSince1970: 1_794_787_200))
        try await TestCoordinator.with(clock: clock, configure: { configuration in
            configuration.auth.sessionTTLSeconds = 30 * 86_400
            var basic = CoordinatorConfiguration.Billing.PlanTerms(
                code: "basic", name: "Basic", currency: "EUR", monthlyPriceMinor: 3_000)
            basic.includedSites = 3
            configuration.billing.defaultPlan = basic
        }) { coordinator in
            try await IdentityFixtures.addAgent(coordinator)
            let alpha = try await IdentityFixtures.organization(
                coordinator, name: "Alpha", operatorToken: coordinator.operatorToken)
            let bravo = try await IdentityFixtures.organization(
                coordinator, name: "Bravo", operatorToken: coordinator.operatorToken)
            let owner = coordinator.client(token: alpha.owner.token)
            let before = try await owner.billing(organizationID: alpha.id)
            #expect(before.plan.code == "basic" && before.subscription.status == "active")
            // Half a month at 3,000 a month.
            #expect(before.projectedInvoice.lines.map(\.amountMinor) == [1_500])

            _ = try await coordinator.client.createPlan(Self.plan("pro", 6_000, sites: 20))
            // Halfway through the period (7.5 days in), the owner upgrades.
            clock.advance(by: 648_000)
            _ = try await owner.changeSubscription(organizationID: alpha.id, plan: "pro")
            let after = try await owner.billing(organizationID: alpha.id)
            #expect(after.plan.code == "pro")
            // Basic's 1,500 for the period, a credit of half of it, a charge of half of pro's 3,000.
            #expect(after.projectedInvoice.lines.map(\.kind) == ["base", "proration", "proration"])
            #expect(after.projectedInvoice.lines.map(\.amountMinor) == [1_500, -750, 1_500])
            #expect(after.projectedInvoice.totalMinor == 2_250 && after.projectedInvoice.currency == "EUR")
            #expect(try await TestDatabase.count("""
                SELECT count(*) FROM audit_entries WHERE action = 'billing.subscription.change'
                  AND organization_id = '\(alpha.id)'
                """, dataDirectory: coordinator.dataDirectory) == 1)

            // Bravo's owner, Alpha's admin: Alpha's bill is not theirs.
            let api = RawAPI(coordinator)
            let foreign = try await api.send("GET", "/v1/organizations/\(alpha.id)/billing", token: bravo.owner.token)
            #expect(foreign.status == 404, "\(foreign.text)")
            for word in ["pro", "2250", "basic"] { #expect(!foreign.text.contains(word), "\(foreign.text)") }
            let change = try await api.send(
                "PUT", "/v1/organizations/\(alpha.id)/subscription", token: bravo.owner.token, json: ["plan": "basic"])
            #expect(change.status == 404, "\(change.text)")
            let admin = try await api.send("GET", "/v1/organizations/\(alpha.id)/billing", token: alpha.admin.token)
            #expect(admin.status == 403, "\(admin.text)")
            // Bravo's own bill is untouched: still basic, no proration.
            let bravoBill = try await coordinator.client(token: bravo.owner.token).billing(organizationID: bravo.id)
            #expect(bravoBill.plan.code == "basic" && bravoBill.projectedInvoice.totalMinor == 1_500)
            // Bad input: an unknown plan, an unknown effective, an unknown field; nothing changes.
            for json: [String: any Sendable] in [
                ["plan": "nope"], ["plan": "basic", "effective": "tomorrow"], ["plan": "basic", "price": 1],
            ] {
                let bad = try await api.send(
                    "PUT", "/v1/organizations/\(alpha.id)/subscription", token: alpha.owner.token, json: json)
                #expect(bad.status == 400, "\(json): \(bad.text)")
            }
            #expect(try await owner.billing(organizationID: alpha.id).plan.code == "pro")
        }
    }

    @Test("the leader closes the ended period: the owner reads the invoice as JSON, CSV and escaped HTML; credits are capped")
    func invoicesThroughTheAPI() async throws {
        let clock = ManualWallClock(Date(timeIntervalSince1970: 1_794_787_200))  // 2026-11-16 00:00 UTC
        try await TestCoordinator.with(clock: clock, configure: { configuration in
            configuration.auth.sessionTTLSeconds = 60 * 86_400
            configuration.billing.closeIntervalSeconds = 1
            configuration.billing.issuer = "Hosting & Co"
            var basic = CoordinatorConfiguration.Billing.PlanTerms(
                code: "basic", name: "Basic", currency: "EUR", monthlyPriceMinor: 3_000)
            basic.includedSites = 3
            configuration.billing.defaultPlan = basic
        }) { coordinator in
            try await IdentityFixtures.addAgent(coordinator)
            let organization = try await IdentityFixtures.organization(
                coordinator, name: "Invoiced", operatorToken: coordinator.operatorToken)
            let owner = coordinator.client(token: organization.owner.token)
            _ = try await coordinator.client.updateOrganization(id: organization.id, name: "<script>alert(1)</script> & Co")
            #expect(try await owner.allInvoices(organizationID: organization.id).isEmpty)
            // The owner cancels at the period's end: the period is still invoiced, then canceled.
            let canceling = try await owner.cancelSubscription(organizationID: organization.id)
            #expect(canceling.cancelAtPeriodEnd && canceling.status == "active")
            #expect(try await owner.cancelSubscription(organizationID: organization.id).cancelAtPeriodEnd, "asked again: unchanged")
            clock.set(Date(timeIntervalSince1970: 1_796_083_260))  // 2026-12-01 00:01 UTC
            // Not before billing.closeDelaySeconds (2 h) have passed: the last hours' usage may still come.
            try await Task.sleep(for: .seconds(3))
            #expect(try await owner.allInvoices(organizationID: organization.id).isEmpty)
            clock.set(Date(timeIntervalSince1970: 1_796_090_460))  // 2026-12-01 02:01 UTC
            var invoices: [InvoiceResponse] = []
            let deadline = ContinuousClock.now + .seconds(60)
            while invoices.isEmpty, ContinuousClock.now < deadline {
                invoices = try await owner.allInvoices(organizationID: organization.id)
                if invoices.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
            }
            let summary = try #require(invoices.first, "no invoice within 60 s of the period's end")
            #expect(invoices.count == 1 && summary.number == 1 && summary.issuer == "Hosting & Co")
            #expect(summary.totalMinor == 1_500 && summary.status == "open" && summary.lines == nil)
            let after = try await owner.billing(organizationID: organization.id).subscription
            #expect(after.status == "canceled" && !after.cancelAtPeriodEnd, "\(after)")
            let refusedSite = try await RawAPI(coordinator).send(
                "POST", "/v1/tenants/\(organization.tenantID)/sites", token: organization.owner.token,
                json: ["domain": "after-cancel.invoiced.test"])
            #expect(refusedSite.status == 403, "no new site for a canceled subscription: \(refusedSite.text)")
            let invoice = try await owner.invoice(organizationID: organization.id, id: summary.id)
            #expect(invoice.lines?.map(\.amountMinor) == [1_500] && invoice.creditNotes == [])

            let csv = try await owner.invoiceDocument(organizationID: organization.id, id: summary.id, format: "csv")
            #expect(csv.hasPrefix("kind,description,meter,quantity,unit_price,amount,currency\r\n"), "\(csv)")
            #expect(csv.contains("base,\"plan basic, 360 hours\",,360,30.00,15.00,EUR\r\n"), "\(csv)")
            #expect(csv.hasSuffix("total,INV-000001,,,,15.00,EUR\r\n"), "\(csv)")
            let html = try await owner.invoiceDocument(organizationID: organization.id, id: summary.id, format: "html")
            #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co") && !html.contains("<script>"), "\(html)")
            #expect(html.contains("Invoice INV-000001") && html.contains("Hosting &amp; Co"))

            // Credits: the owner may not issue one; the operator may, up to the invoice's total.
            let api = RawAPI(coordinator)
            let path = "/v1/organizations/\(organization.id)/invoices/\(summary.id)/credit-notes"
            let byOwner = try await api.send("POST", path, token: organization.owner.token, json: ["amountMinor": 100, "reason": "x"])
            #expect(byOwner.status == 403, "\(byOwner.text)")
            let note = try await coordinator.client.createCreditNote(
                organizationID: organization.id, invoiceID: summary.id, amountMinor: 1_000, reason: "outage on the 20th")
            #expect(note.number == 1 && note.amountMinor == 1_000)
            let over = try await api.send("POST", path, token: coordinator.operatorToken, json: ["amountMinor": 501, "reason": "more"])
            #expect(over.status == 409, "\(over.text)")
            _ = try await coordinator.client.createCreditNote(
                organizationID: organization.id, invoiceID: summary.id, amountMinor: 500, reason: "the rest")
            let credited = try await owner.invoice(organizationID: organization.id, id: summary.id)
            #expect(credited.creditNotes?.map(\.number) == [1, 2] && credited.totalMinor == 1_500)

            // Another organization's owner finds no such invoice; a bad format is a 400.
            let other = try await IdentityFixtures.organization(coordinator, name: "Other", operatorToken: coordinator.operatorToken)
            let foreign = try await api.send(
                "GET", "/v1/organizations/\(organization.id)/invoices/\(summary.id)", token: other.owner.token)
            #expect(foreign.status == 404, "\(foreign.text)")
            let crossed = try await api.send(
                "GET", "/v1/organizations/\(other.id)/invoices/\(summary.id)", token: other.owner.token)
            #expect(crossed.status == 404, "\(crossed.text)")
            let badFormat = try await api.send(
                "GET", "/v1/organizations/\(organization.id)/invoices/\(summary.id)?format=pdf", token: organization.owner.token)
            #expect(badFormat.status == 400, "\(badFormat.text)")
        }
    }
}
