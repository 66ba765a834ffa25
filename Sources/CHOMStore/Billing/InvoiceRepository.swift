package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// Invoices and credit notes (Migration0019Invoices). Numbers come from `billing_counters` inside
/// the transaction that writes the document: a rolled-back close takes no number, so each
/// issuer's numbers have no gaps.
package struct InvoiceRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    package enum Sequence: String, Sendable { case invoice, creditNote = "credit_note" }

    /// Takes the issuer's next number of `sequence` (1 first), locking the counter until commit.
    package func takeNumber(issuer: String, _ sequence: Sequence, in transaction: AuditedTransaction) async throws -> Int64 {
        let rows = try await transaction.connection.query("""
            INSERT INTO billing_counters (issuer, sequence, next_number) VALUES (\(issuer), \(sequence.rawValue), 2)
            ON CONFLICT (issuer, sequence) DO UPDATE SET next_number = billing_counters.next_number + 1
            RETURNING next_number - 1
            """, logger: logger)
        for try await number in rows.decode(Int64.self) { return number }
        throw CHOMError(.internal, "no invoice number was taken")
    }

    /// Writes a finalized invoice and its lines. Lines are only ever written here, with their invoice.
    package func insert(_ invoice: InvoiceRecord, in transaction: AuditedTransaction) async throws {
        let c = transaction.connection
        try await c.query("""
            INSERT INTO invoices (id, organization_id, issuer, number, status, period_start, period_end, plan_code,
                currency, total_minor, finalized_at, paid_at, stripe_invoice_id)
            VALUES (\(invoice.id), \(invoice.organizationID.uuid), \(invoice.issuer), \(invoice.number),
                \(invoice.status.rawValue), \(invoice.period.start), \(invoice.period.end), \(invoice.planCode),
                \(invoice.currency), \(invoice.totalMinor), \(invoice.finalizedAt), \(invoice.paidAt),
                \(invoice.stripeInvoiceID))
            """, logger: logger)
        guard !invoice.lines.isEmpty else { return }
        let lines = invoice.lines
        // Arrays cannot carry NULLs here: no meter is '' and no unit price Int64.min, mapped back.
        try await c.query("""
            INSERT INTO invoice_lines (invoice_id, position, kind, description, meter, quantity, unit_price_minor, amount_minor)
            SELECT \(invoice.id), p, k, d, NULLIF(m, ''), q, NULLIF(u, -9223372036854775808), a
            FROM unnest(\(Array(0..<Int32(lines.count)))::integer[], \(lines.map(\.kind.rawValue))::text[],
                        \(lines.map(\.description))::text[], \(lines.map { $0.meter?.rawValue ?? "" })::text[],
                        \(lines.map(\.quantity))::bigint[], \(lines.map { $0.unitPrice?.minor ?? .min })::bigint[],
                        \(lines.map(\.amount.minor))::bigint[]) AS l(p, k, d, m, q, u, a)
            """, logger: logger)
    }

    /// The organization's invoice for the period starting at `start`, if it was closed.
    package func invoice(organization: OrganizationID, periodStart start: Date, in transaction: AuditedTransaction)
        async throws -> InvoiceRecord?
    {
        let rows = try await transaction.connection.query("""
            SELECT * FROM invoices WHERE organization_id = \(organization.uuid) AND period_start = \(start)
            """, logger: logger)
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        return nil
    }

    /// A page of the organization's invoices, newest period first, without lines.
    package func list(organization: OrganizationID, before cursor: Int64?, limit: Int) async throws -> [InvoiceRecord] {
        let rows = try await client.query("""
            SELECT * FROM invoices WHERE organization_id = \(organization.uuid)
              AND (\(cursor)::bigint IS NULL OR number < \(cursor)::bigint)
            ORDER BY number DESC LIMIT \(limit)
            """, logger: logger)
        var invoices: [InvoiceRecord] = []
        for try await row in rows { invoices.append(try Self.decode(row.makeRandomAccess())) }
        return invoices
    }

    /// One invoice of the organization with its lines; nil for another organization's.
    package func get(_ id: UUID, organization: OrganizationID) async throws -> InvoiceRecord? {
        var found: InvoiceRecord?
        for try await row in try await client.query(
            "SELECT * FROM invoices WHERE id = \(id) AND organization_id = \(organization.uuid)", logger: logger)
        {
            found = try Self.decode(row.makeRandomAccess())
        }
        guard var invoice = found else { return nil }
        let rows = try await client.query("""
            SELECT kind, description, meter, quantity, unit_price_minor, amount_minor FROM invoice_lines
            WHERE invoice_id = \(id) ORDER BY position
            """, logger: logger)
        for try await (kind, description, meter, quantity, unit, amount) in rows.decode(
            (String, String, String?, Int64, Int64?, Int64).self)
        {
            guard let kind = InvoiceLine.Kind(rawValue: kind) else { throw CHOMError(.integrity, "unknown invoice line kind") }
            invoice.lines.append(InvoiceLine(
                kind: kind, description: description, meter: meter.flatMap(Meter.init(rawValue:)), quantity: quantity,
                unitPrice: try unit.map { try Money(minor: $0, currency: invoice.currency) },
                amount: try Money(minor: amount, currency: invoice.currency)))
        }
        return invoice
    }

    /// The invoice a payment processor knows by `stripeID`, with its organization.
    package func invoice(stripeID: String, in transaction: AuditedTransaction) async throws -> InvoiceRecord? {
        let rows = try await transaction.connection.query(
            "SELECT * FROM invoices WHERE stripe_invoice_id = \(stripeID) FOR UPDATE", logger: logger)
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        return nil
    }

    /// Records a webhook event by its id; false when it was received before (nothing is written).
    package func receiveStripeEvent(
        id: String, type: String, created: Date, outcome: String, now: Date, in transaction: AuditedTransaction
    ) async throws -> Bool {
        let rows = try await transaction.connection.query("""
            INSERT INTO stripe_events (id, type, created_at, received_at, outcome)
            VALUES (\(id), \(type), \(created), \(now), \(outcome))
            ON CONFLICT (id) DO NOTHING RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Marks an open invoice paid; false when it was not open (paid already, or void).
    package func markPaid(_ id: UUID, at date: Date, in transaction: AuditedTransaction) async throws -> Bool {
        let rows = try await transaction.connection.query("""
            UPDATE invoices SET status = 'paid', paid_at = \(date) WHERE id = \(id) AND status = 'open' RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Locks the invoice's row for the rest of the transaction (credit notes of one invoice are
    /// written one at a time).
    package func lock(_ id: UUID, in transaction: AuditedTransaction) async throws {
        try await transaction.connection.query("SELECT 1 FROM invoices WHERE id = \(id) FOR UPDATE", logger: logger)
    }

    package func insertCreditNote(_ note: CreditNoteRecord, in transaction: AuditedTransaction) async throws {
        try await transaction.connection.query("""
            INSERT INTO credit_notes (id, invoice_id, issuer, number, amount_minor, currency, reason, created_at)
            VALUES (\(note.id), \(note.invoiceID), \(note.issuer), \(note.number), \(note.amount.minor),
                \(note.amount.currency), \(note.reason), \(note.createdAt))
            """, logger: logger)
    }

    package func creditNotes(invoice: UUID) async throws -> [CreditNoteRecord] {
        try await client.withConnection { try await creditNotes(invoice: invoice, on: $0) }
    }

    package func creditNotes(invoice: UUID, in transaction: AuditedTransaction) async throws -> [CreditNoteRecord] {
        try await creditNotes(invoice: invoice, on: transaction.connection)
    }

    private func creditNotes(invoice: UUID, on connection: PostgresConnection) async throws -> [CreditNoteRecord] {
        let rows = try await connection.query("""
            SELECT id, invoice_id, issuer, number, amount_minor, currency, reason, created_at FROM credit_notes
            WHERE invoice_id = \(invoice) ORDER BY number
            """, logger: logger)
        var notes: [CreditNoteRecord] = []
        for try await (id, invoiceID, issuer, number, minor, currency, reason, created) in rows.decode(
            (UUID, UUID, String, Int64, Int64, String, String, Date).self)
        {
            notes.append(CreditNoteRecord(
                id: id, invoiceID: invoiceID, issuer: issuer, number: number,
                amount: try Money(minor: minor, currency: currency), reason: reason, createdAt: created))
        }
        return notes
    }

    /// Organizations whose current period has ended by `now` (canceled ones have no further period).
    package func due(now: Date, limit: Int) async throws -> [OrganizationID] {
        let rows = try await client.query("""
            SELECT organization_id FROM billing_subscriptions
            WHERE period_end <= \(now) AND status <> 'canceled' ORDER BY period_end, organization_id LIMIT \(limit)
            """, logger: logger)
        var due: [OrganizationID] = []
        for try await id in rows.decode(UUID.self) { due.append(OrganizationID(id)) }
        return due
    }

    static func decode(_ r: PostgresRandomAccessRow) throws -> InvoiceRecord {
        let statusText: String = try r.value("status")
        guard let status = InvoiceRecord.Status(rawValue: statusText) else {
            throw CHOMError(.integrity, "unknown invoice status \(statusText)")
        }
        return InvoiceRecord(
            id: try r.value("id"), organizationID: OrganizationID(try r.value("organization_id")),
            issuer: try r.value("issuer"), number: try r.value("number"), status: status,
            period: DateInterval(start: try r.value("period_start"), end: try r.value("period_end")),
            planCode: try r.value("plan_code"), currency: try r.value("currency"), totalMinor: try r.value("total_minor"),
            finalizedAt: try r.value("finalized_at"), paidAt: try r.value("paid_at"),
            stripeInvoiceID: try r.value("stripe_invoice_id"), lines: [])
    }
}
