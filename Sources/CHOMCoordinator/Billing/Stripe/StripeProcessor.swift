import CHOMCore
import Foundation

/// `PaymentProcessor` over Stripe's API (`StripeAPI`). Objects CHOM creates carry its ids in their
/// metadata (and the invoice's in its description, which localstripe keeps while it drops an
/// invoice's metadata), so a create whose answer was lost is found again instead of made twice.
struct StripeProcessor: PaymentProcessor {
    let api: StripeAPI

    func createCustomer(name: String, email: String?, organization: OrganizationID, key: String) async throws -> String {
        var form = [("name", name), ("metadata[chom_organization]", organization.description)]
        if let email { form.append(("email", email)) }
        return try id(await api.post("/v1/customers", form, idempotencyKey: key))
    }

    func createSubscription(customer: String, price: String, organization: OrganizationID, key: String) async throws
        -> String
    {
        // `items[0][plan]`: the legacy name Stripe still takes for a price id, and the one localstripe knows.
        try id(await api.post("/v1/subscriptions", [
            ("customer", customer), ("items[0][plan]", price), ("metadata[chom_organization]", organization.description),
        ], idempotencyKey: key))
    }

    func subscriptionAmount(_ subscription: String) async throws -> Int64 {
        let object = try await api.get("/v1/subscriptions/\(subscription)")
        let items = (object["items"] as? [String: any Sendable])?["data"] as? [any Sendable] ?? []
        var total: Int64 = 0
        for case let item as [String: any Sendable] in items {
            let quantity = item["quantity"] as? Int64 ?? 1
            let price = item["price"] as? [String: any Sendable]
            let plan = item["plan"] as? [String: any Sendable]
            let unit = price?["unit_amount"] as? Int64 ?? plan?["amount"] as? Int64 ?? 0
            total += unit * quantity
        }
        return total
    }

    func pendingItems(customer: String) async throws -> [PendingItem] {
        let list = try await api.get("/v1/invoiceitems", [("customer", customer), ("limit", "100")])
        var result: [PendingItem] = []
        for case let item as [String: any Sendable] in list["data"] as? [any Sendable] ?? [] {
            let metadata = item["metadata"] as? [String: any Sendable] ?? [:]
            guard item["invoice"] as? String == nil, let invoice = metadata["chom_invoice"] as? String,
                let position = (metadata["chom_line"] as? String).flatMap(Int.init), let id = item["id"] as? String
            else { continue }
            result.append(PendingItem(invoice: invoice, position: position, id: id))
        }
        return result
    }

    func createItem(
        customer: String, subscription: String, amountMinor: Int64, currency: String, description: String, invoice: UUID,
        position: Int, key: String
    ) async throws -> String {
        // With `subscription`, Stripe puts the item on that subscription's invoice (an invoice made
        // with `subscription` takes only that subscription's pending items).
        try id(await api.post("/v1/invoiceitems", [
            ("customer", customer), ("subscription", subscription), ("amount", String(amountMinor)),
            ("currency", currency.lowercased()), ("description", String(description.prefix(400))),
            ("metadata[chom_invoice]", invoice.uuidString.lowercased()), ("metadata[chom_line]", String(position)),
        ], idempotencyKey: key))
    }

    func findInvoice(customer: String, invoice: UUID) async throws -> String? {
        let list = try await api.get("/v1/invoices", [("customer", customer), ("limit", "100")])
        let mark = invoice.uuidString.lowercased()
        for case let object as [String: any Sendable] in list["data"] as? [any Sendable] ?? [] {
            let metadata = object["metadata"] as? [String: any Sendable] ?? [:]
            if metadata["chom_invoice"] as? String == mark || (object["description"] as? String)?.contains(mark) == true {
                return object["id"] as? String
            }
        }
        return nil
    }

    func createInvoice(customer: String, subscription: String, invoice: UUID, number: String, key: String) async throws
        -> String
    {
        let mark = invoice.uuidString.lowercased()
        return try id(await api.post("/v1/invoices", [
            ("customer", customer), ("subscription", subscription), ("pending_invoice_items_behavior", "include"),
            ("description", "CHOM invoice \(number) (\(mark))"), ("metadata[chom_invoice]", mark),
        ], idempotencyKey: key))
    }

    func collect(_ invoice: String, key: String) async throws -> String {
        // Paid already (an interrupted pass asked before): nothing to ask again.
        let current = try await api.get("/v1/invoices/\(invoice)")
        if current["status"] as? String == "paid" { return "paid" }
        let object: [String: any Sendable]
        do {
            object = try await api.post("/v1/invoices/\(invoice)/pay", [], idempotencyKey: key)
        } catch let refusal as StripeAPI.Refusal where refusal.status == 402 {
            return "declined"  // Stripe's answer to a declined card.
        }
        let status = object["status"] as? String ?? "unknown"
        guard status == "open" else { return status }
        // Still open after the attempt: declined if its charge failed (localstripe answers 200 here).
        var charge = object["charge"] as? [String: any Sendable]
        if charge == nil, let id = object["charge"] as? String {
            charge = try await api.get("/v1/charges/\(id)")
        }
        return charge?["status"] as? String == "failed" ? "declined" : status
    }

    func subscriptionStatus(_ subscription: String) async throws -> String {
        let object = try await api.get("/v1/subscriptions/\(subscription)")
        guard let status = object["status"] as? String else {
            throw CHOMError(.unavailable, "Stripe's subscription \(subscription) has no status")
        }
        return status
    }

    private func id(_ object: [String: any Sendable]) throws -> String {
        guard let id = object["id"] as? String, !id.isEmpty else {
            throw CHOMError(.unavailable, "Stripe's answer has no object id")
        }
        return id
    }
}
