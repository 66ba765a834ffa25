import ArgumentParser
import CHOMAPI
import Foundation

/// Invoices: listing, reading and printing them, payments and credit notes.
extension BillingCommand {
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

}
