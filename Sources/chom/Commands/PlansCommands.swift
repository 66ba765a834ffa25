import ArgumentParser
import CHOMAPI
import Foundation

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
        @Option(help: ArgumentHelp(
            "The zero-amount Stripe price its organizations' Stripe subscriptions are on (when Stripe is configured).",
            valueName: "price")) var stripePrice: String?

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
            request.stripePriceId = stripePrice
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
            ("Stripe price", plan.stripePriceId ?? "-"),
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
