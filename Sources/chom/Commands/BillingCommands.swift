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

    static func money(_ minor: Int64, _ currency: String) -> String {
        // ISO 4217 currencies without minor units; the rest have two.
        let zeroDecimal: Set<String> = ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"]
        if zeroDecimal.contains(currency) { return "\(minor) \(currency)" }
        let sign = minor < 0 ? "-" : ""
        let magnitude = minor.magnitude
        let cents = magnitude % 100
        return "\(sign)\(magnitude / 100).\(cents < 10 ? "0" : "")\(cents) \(currency)"
    }

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

    struct Invoices: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List an organization's invoices, newest first.",
            discussion: """
                Each ended period (a calendar month, UTC) is closed into one invoice, numbered without \
                gaps per issuer.

                Example:
                  chom billing invoices acme
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The organization's ID, ID prefix or name.", valueName: "org"))
        var organization: String

        func run() async throws {
            let client = try await global.client()
            let invoices = try await client.allInvoices(organizationID: client.resolveOrganization(organization))
            if global.json { return try Console.json(ListResponse(items: invoices)) }
            var table = Table(headers: ["ID", "NUMBER", "PERIOD", "PLAN", "TOTAL", "STATUS"])
            for invoice in invoices {
                table.append([
                    Format.shortID(invoice.id), BillingCommand.number(invoice.number),
                    invoice.periodStart.formatted(.iso8601.year().month()), invoice.plan,
                    BillingCommand.money(invoice.totalMinor, invoice.currency), invoice.status,
                ])
            }
            Console.table(table)
        }
    }

    struct Invoice: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one invoice with its lines and credit notes, or print it as CSV or HTML.",
            discussion: """
                Example:
                  chom billing invoice 7c0e1d2a --org acme
                  chom billing invoice 7c0e1d2a --org acme --format csv > invoice.csv
                  chom billing invoice 7c0e1d2a --org acme --format html > invoice.html
                """
        )

        enum DocumentFormat: String, ExpressibleByArgument, CaseIterable { case table, csv, html }

        @OptionGroup var global: GlobalOptions

        @OptionGroup var target: InvoiceTarget

        @Option(help: "table (the default), csv or html; --output json prints the JSON.")
        var format: DocumentFormat = .table

        func run() async throws {
            let client = try await global.client()
            let (organization, id) = try await target.resolve(client)
            switch format {
            case .csv, .html:
                return Console.out(try await client.invoiceDocument(organizationID: organization, id: id, format: format.rawValue))
            case .table:
                let invoice = try await client.invoice(organizationID: organization, id: id)
                if global.json { return try Console.json(invoice) }
                Console.table(.keyValue([
                    ("Invoice", "\(BillingCommand.number(invoice.number)) (\(invoice.issuer))"),
                    ("Period", "\(Format.timestamp(invoice.periodStart)) to \(Format.timestamp(invoice.periodEnd))"),
                    ("Plan", invoice.plan), ("Status", invoice.status),
                ]))
                Console.out("")
                var table = BillingCommand.invoice(ProjectedInvoiceResponse(
                    currency: invoice.currency, lines: invoice.lines ?? [], totalMinor: invoice.totalMinor))
                for note in invoice.creditNotes ?? [] {
                    table.append([
                        "credit note \(BillingCommand.number(note.number, prefix: "CN")): \(note.reason)", "",
                        BillingCommand.money(-note.amountMinor, note.currency),
                    ])
                }
                Console.table(table)
            }
        }
    }

    struct Payment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a payment's outcome for an invoice (platform operators).",
            discussion: """
                paid settles the invoice and reactivates a past-due or suspended subscription (its \
                sites' billing suspension is lifted); failed makes the subscription past due, and \
                after billing.graceDays its sites answer 503 until a payment.

                Example:
                  chom billing payment 7c0e1d2a --org acme paid
                  chom billing payment 7c0e1d2a --org acme failed
                """
        )

        enum Outcome: String, ExpressibleByArgument, CaseIterable { case paid, failed }

        @OptionGroup var global: GlobalOptions

        @OptionGroup var target: InvoiceTarget

        @Argument(help: "paid or failed.")
        var outcome: Outcome

        func run() async throws {
            let client = try await global.client()
            let (organization, id) = try await target.resolve(client)
            let updated = try await client.recordPayment(organizationID: organization, invoiceID: id, status: outcome.rawValue)
            if global.json { return try Console.json(updated) }
            let subscription = try await client.billing(organizationID: organization).subscription
            Console.table(.keyValue([
                ("Invoice", "\(BillingCommand.number(updated.number)) \(updated.status)"),
                ("Subscription", subscription.status),
                ("Grace ends", Format.orDash(subscription.graceEndsAt.map { Format.timestamp($0) })),
            ]))
        }
    }

    struct CreditNote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "credit-note",
            abstract: "Credit part or all of an invoice (platform operators).",
            discussion: """
                A finalized invoice never changes; a credit note corrects it. The credit notes of an \
                invoice never exceed its total.

                Example:
                  chom billing credit-note 7c0e1d2a --org acme --amount-minor 500 --reason "outage on the 3rd"
                """
        )

        @OptionGroup var global: GlobalOptions

        @OptionGroup var target: InvoiceTarget

        @Option(help: ArgumentHelp("The amount credited, in minor units.", valueName: "minor"))
        var amountMinor: Int64

        @Option(help: "Why (printed on the invoice).")
        var reason: String

        func run() async throws {
            let client = try await global.client()
            let (organization, id) = try await target.resolve(client)
            let note = try await client.createCreditNote(
                organizationID: organization, invoiceID: id, amountMinor: amountMinor, reason: reason)
            if global.json { return try Console.json(note) }
            Console.table(.keyValue([
                ("Credit note", BillingCommand.number(note.number, prefix: "CN")),
                ("Amount", BillingCommand.money(note.amountMinor, note.currency)), ("Reason", note.reason),
            ]))
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

struct PlansCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plans",
        abstract: "List plans; create and change them (platform operators).",
        discussion: """
            A plan has a monthly price in integer minor units of its currency (2900 EUR is 29.00 EUR), \
            included limits (left out: unlimited), overage prices per meter and a trial. Quotas \
            refuse a new site or invitation beyond the plan's sites or members, and a new backup over \
            its storage hard limit.

            Example:
              chom plans list
              chom plans create pro --name Pro --currency EUR --price-minor 2900 --sites 10 --members 5 \\
                  --storage-gb 20 --bandwidth-gb 100 --overage site_hours=500 --overage bandwidth_bytes=5
              chom plans update pro --name Pro --currency EUR --price-minor 3900 --sites 20
              chom plans update legacy --name Legacy --currency EUR --price-minor 900 --archived
            """,
        subcommands: [List.self, Create.self, Update.self]
    )

    struct Terms: ParsableArguments {
        @Argument(help: ArgumentHelp("The plan's code: lower-case letters, digits, '.', '_', '-'.", valueName: "code"))
        var code: String
        @Option(help: "The plan's name.") var name: String
        @Option(help: ArgumentHelp("ISO 4217 currency code.", valueName: "code")) var currency: String
        @Option(help: ArgumentHelp("The monthly price in minor units.", valueName: "minor")) var priceMinor: Int64
        @Option(help: ArgumentHelp("Sites included (left out: unlimited).", valueName: "n")) var sites: Int64?
        @Option(help: ArgumentHelp("Members included, with open invitations.", valueName: "n")) var members: Int64?
        @Option(help: ArgumentHelp("Site storage included, decimal GB.", valueName: "gb")) var storageGb: Int64?
        @Option(help: ArgumentHelp("Bandwidth included per period, decimal GB.", valueName: "gb")) var bandwidthGb: Int64?
        @Option(help: ArgumentHelp("Backup storage included, decimal GB.", valueName: "gb")) var backupGb: Int64?
        @Option(help: ArgumentHelp("Over this, new backups are refused.", valueName: "gb")) var storageHardLimitGb: Int64?
        @Option(help: ArgumentHelp("An overage price, METER=MINOR; repeatable.", valueName: "meter=minor"))
        var overage: [String] = []
        @Option(help: ArgumentHelp("Trial days (0 to 365).", valueName: "days")) var trialDays: Int?
        @Flag(help: "Archive the plan: it keeps its subscribers and takes no new ones.") var archived = false

        func request() throws -> PlanRequest {
            var request = PlanRequest(code: code, name: name, currency: currency, monthlyPriceMinor: priceMinor)
            request.includedSites = sites
            request.includedMembers = members
            request.includedStorageGB = storageGb
            request.includedBandwidthGB = bandwidthGb
            request.includedBackupGB = backupGb
            request.storageHardLimitGB = storageHardLimitGb
            request.trialDays = trialDays
            request.archived = archived
            var prices: [String: Int64] = [:]
            for item in overage {
                let parts = item.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, let minor = Int64(parts[1]) else {
                    throw ValidationError("--overage takes METER=MINOR, e.g. bandwidth_bytes=5, not \(item)")
                }
                prices[String(parts[0])] = minor
            }
            request.overage = prices.isEmpty ? nil : prices
            return request
        }
    }

    static func details(_ plan: PlanResponse) -> Table {
        .keyValue([
            ("Code", plan.code), ("Name", plan.name),
            ("Price", "\(BillingCommand.money(plan.monthlyPriceMinor, plan.currency)) a month"),
            ("Sites", BillingCommand.limit(plan.includedSites)), ("Members", BillingCommand.limit(plan.includedMembers)),
            ("Storage", BillingCommand.limit(plan.includedStorageGB, unit: " GB")),
            ("Bandwidth", BillingCommand.limit(plan.includedBandwidthGB, unit: " GB")),
            ("Backups", BillingCommand.limit(plan.includedBackupGB, unit: " GB")),
            ("Storage hard limit", BillingCommand.limit(plan.storageHardLimitGB, unit: " GB")),
            ("Overage", plan.overage.isEmpty ? "-" : plan.overage.sorted { $0.key < $1.key }
                .map { "\($0.key) \(BillingCommand.money($0.value, plan.currency))" }.joined(separator: ", ")),
            ("Trial", "\(plan.trialDays) days"), ("Archived", plan.archived ? "yes" : "no"),
        ])
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the plans (operators also see archived ones).", aliases: ["ls"])

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let plans = try await global.client().plans()
            if global.json { return try Console.json(plans) }
            var table = Table(headers: ["CODE", "NAME", "PRICE", "SITES", "MEMBERS", "TRIAL", "ARCHIVED"])
            for plan in plans.items {
                table.append([
                    plan.code, plan.name, BillingCommand.money(plan.monthlyPriceMinor, plan.currency),
                    BillingCommand.limit(plan.includedSites), BillingCommand.limit(plan.includedMembers),
                    "\(plan.trialDays)d", plan.archived ? "yes" : "no",
                ])
            }
            Console.table(table)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a plan (platform operators).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var terms: Terms

        func run() async throws {
            let plan = try await global.client().createPlan(try terms.request())
            if global.json { return try Console.json(plan) }
            Console.table(PlansCommand.details(plan))
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a plan's terms (platform operators); subscribers get them from their next invoice.",
            discussion: "Every term is replaced: a limit left out becomes unlimited.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var terms: Terms

        func run() async throws {
            let plan = try await global.client().updatePlan(code: terms.code, try terms.request())
            if global.json { return try Console.json(plan) }
            Console.table(PlansCommand.details(plan))
        }
    }
}
