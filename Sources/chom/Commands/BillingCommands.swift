import ArgumentParser
import CHOMAPI
import Foundation

struct BillingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "billing",
        abstract: "An organization's plan, usage to date and projected invoice; change its plan.",
        discussion: """
            Owners see and change their organization's billing; platform operators see every \
            organization's. Amounts are in the plan's currency. Periods are calendar months in UTC.

            ORG takes the organization's ID, a unique prefix of it, or its name.

            Example:
              chom billing show acme
              chom billing usage acme
              chom billing plan set acme pro                 # now, with proration
              chom billing plan set acme starter --at-period-end
              chom billing invoices acme
              chom billing invoice 7c0e1d2a --org acme --format html > invoice.html
            """,
        subcommands: [
            Show.self, Usage.self, Invoices.self, Invoice.self, Payment.self, CreditNote.self, PlanCommand.self, Cancel.self,
        ]
    )

    static func number(_ number: Int64, prefix: String = "INV") -> String { "\(prefix)-\(String(format: "%06lld", number))" }

    /// An invoice named on the command line: its ID (or a unique prefix) and its organization.
    struct InvoiceTarget: ParsableArguments {
        @Argument(help: ArgumentHelp("The invoice's ID or a unique prefix of it.", valueName: "id"))
        var invoice: String

        @Option(help: ArgumentHelp("The organization's ID, ID prefix or name.", valueName: "org"))
        var org: String

        func resolve(_ client: AdminClient) async throws -> (organization: String, invoice: String) {
            let organization = try await client.resolveOrganization(org)
            let id = try await client.resolve(invoice, what: "invoice") {
                try await client.allInvoices(organizationID: organization).map(\.id)
            }
            return (organization, id)
        }
    }

    static func money(_ minor: Int64, _ currency: String) -> String { "\(MoneyText.amount(minor, currency)) \(currency)" }

    static func limit(_ value: Int64?, unit: String = "") -> String {
        guard let value else { return "unlimited" }
        return "\(value)\(unit)"
    }

    static func invoice(_ invoice: ProjectedInvoiceResponse) -> Table {
        var table = Table(headers: ["LINE", "QUANTITY", "AMOUNT"])
        for line in invoice.lines {
            table.append([line.description, "\(line.quantity)", money(line.amountMinor, invoice.currency)])
        }
        table.append(["total", "", money(invoice.totalMinor, invoice.currency)])
        return table
    }
}

extension BillingCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the plan, the subscription, usage to date and the projected invoice.",
            discussion: """
                The projected invoice is what the current period would close with if usage stopped now.

                Example:
                  chom billing show acme --output json
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The organization's ID, ID prefix or name.", valueName: "org"))
        var organization: String

        func run() async throws {
            let client = try await global.client()
            let billing = try await client.billing(organizationID: client.resolveOrganization(organization))
            if global.json { return try Console.json(billing) }
            let s = billing.subscription
            let p = billing.plan
            Console.table(.keyValue([
                ("Plan", "\(p.name) (\(p.code)), \(BillingCommand.money(p.monthlyPriceMinor, p.currency)) a month"),
                ("Status", s.status), ("Period", "\(Format.timestamp(s.periodStart)) to \(Format.timestamp(s.periodEnd))"),
                ("Trial ends", Format.orDash(s.trialEndsAt.map { Format.timestamp($0) })),
                ("Grace ends", Format.orDash(s.graceEndsAt.map { Format.timestamp($0) })),
                ("Next plan", Format.orDash(s.pendingPlan)),
                ("Sites", "\(billing.usage.sites) of \(BillingCommand.limit(p.includedSites))"),
                ("Members", "\(billing.usage.members) of \(BillingCommand.limit(p.includedMembers)) (with open invitations)"),
                ("Backups", "\(Format.bytes(billing.usage.storageBytes)) (hard limit \(BillingCommand.limit(p.storageHardLimitGB, unit: " GB")))"),
            ]))
            Console.out("")
            Console.table(BillingCommand.invoice(billing.projectedInvoice))
        }
    }

    struct Usage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the period's metered usage so far, by meter.",
            discussion: """
                Meters are counted in base units: site_hours in hours, storage_byte_hours and \
                backup_byte_hours in byte-hours, bandwidth_bytes in bytes.

                Example:
                  chom billing usage acme
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The organization's ID, ID prefix or name.", valueName: "org"))
        var organization: String

        func run() async throws {
            let client = try await global.client()
            let billing = try await client.billing(organizationID: client.resolveOrganization(organization))
            if global.json { return try Console.json(billing.usage) }
            var table = Table(headers: ["METER", "QUANTITY"])
            table.append(["sites (now)", "\(billing.usage.sites)"])
            table.append(["members (now)", "\(billing.usage.members)"])
            table.append(["backup bytes (now)", "\(billing.usage.storageBytes)"])
            for meter in ["site_hours", "storage_byte_hours", "bandwidth_bytes", "backup_byte_hours"] {
                table.append([meter, "\(billing.usage.meters[meter] ?? 0)"])
            }
            Console.table(table)
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel the organization's subscription when its current period ends.",
            discussion: """
                The period is invoiced as usual; then the subscription is canceled and no new site \
                is placed for the organization.

                Example:
                  chom billing cancel acme
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The organization's ID, ID prefix or name.", valueName: "org"))
        var organization: String

        func run() async throws {
            let client = try await global.client()
            let subscription = try await client.cancelSubscription(organizationID: client.resolveOrganization(organization))
            if global.json { return try Console.json(subscription) }
            Console.table(.keyValue([
                ("Plan", subscription.plan), ("Status", subscription.status),
                ("Canceled at", subscription.cancelAtPeriodEnd ? Format.timestamp(subscription.periodEnd) : "-"),
            ]))
        }
    }

    struct PlanCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "plan",
            abstract: "Change an organization's plan.",
            subcommands: [SetPlan.self]
        )

        struct SetPlan: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "set",
                abstract: "Move the organization to another plan (owners and operators).",
                discussion: """
                    Without --at-period-end the change is immediate and the period's invoice gets a \
                    credit for the old plan's unused time and a charge for the new plan's. Setting the \
                    current plan drops a change planned for the period's end.

                    Example:
                      chom billing plan set acme pro
                      chom billing plan set acme starter --at-period-end
                    """
            )

            @OptionGroup var global: GlobalOptions

            @Argument(help: ArgumentHelp("The organization's ID, ID prefix or name.", valueName: "org"))
            var organization: String

            @Argument(help: ArgumentHelp("The plan's code (see `chom plans list`).", valueName: "plan"))
            var plan: String

            @Flag(help: "Switch when the current period ends instead of now.")
            var atPeriodEnd = false

            func run() async throws {
                let client = try await global.client()
                let subscription = try await client.changeSubscription(
                    organizationID: client.resolveOrganization(organization), plan: plan,
                    effective: atPeriodEnd ? "period_end" : "now")
                if global.json { return try Console.json(subscription) }
                Console.table(.keyValue([
                    ("Plan", subscription.plan), ("Status", subscription.status),
                    ("Next plan", Format.orDash(subscription.pendingPlan)),
                ]))
            }
        }
    }
}
