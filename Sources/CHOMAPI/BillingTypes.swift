package import Foundation

// Billing (`/v1/billing/…`, `/v1/organizations/{org}/billing`, `…/subscription`). Money is in
// integer minor units of the plan's currency; a limit that is absent is unlimited.

/// A plan's terms: the body of `POST /v1/billing/plans` and `PUT /v1/billing/plans/{code}` (whose
/// code must match the path's).
package struct PlanRequest: Codable, Sendable, Equatable {
    package var code: String
    package var name: String
    package var currency: String
    package var monthlyPriceMinor: Int64
    package var includedSites: Int64?
    package var includedStorageGB: Int64?
    package var includedBandwidthGB: Int64?
    package var includedBackupGB: Int64?
    package var includedMembers: Int64?
    package var storageHardLimitGB: Int64?
    /// Minor units per plan unit over the included amount, by meter: `site_hours` (a site-month),
    /// `storage_byte_hours` (a GB-month), `bandwidth_bytes` (a GB), `backup_byte_hours` (a GB-month).
    package var overage: [String: Int64]?
    package var trialDays: Int?
    package var archived: Bool?
    /// The Stripe price of the organizations' Stripe subscriptions (absent: not linked to Stripe).
    package var stripePriceId: String?
    package static let fields: Set<String> = [
        "code", "name", "currency", "monthlyPriceMinor", "includedSites", "includedStorageGB", "includedBandwidthGB",
        "includedBackupGB", "includedMembers", "storageHardLimitGB", "overage", "trialDays", "archived", "stripePriceId",
    ]
    package init(code: String, name: String, currency: String, monthlyPriceMinor: Int64) {
        self.code = code
        self.name = name
        self.currency = currency
        self.monthlyPriceMinor = monthlyPriceMinor
    }
}

package struct PlanResponse: Codable, Sendable, Equatable {
    package var code: String
    package var name: String
    package var currency: String
    package var monthlyPriceMinor: Int64
    package var includedSites: Int64?
    package var includedStorageGB: Int64?
    package var includedBandwidthGB: Int64?
    package var includedBackupGB: Int64?
    package var includedMembers: Int64?
    package var storageHardLimitGB: Int64?
    package var overage: [String: Int64]
    package var trialDays: Int
    package var archived: Bool
    package var stripePriceId: String?
    package var createdAt: Date
    package var updatedAt: Date
    package init(
        code: String, name: String, currency: String, monthlyPriceMinor: Int64, overage: [String: Int64], trialDays: Int,
        archived: Bool, createdAt: Date, updatedAt: Date
    ) {
        self.code = code
        self.name = name
        self.currency = currency
        self.monthlyPriceMinor = monthlyPriceMinor
        self.overage = overage
        self.trialDays = trialDays
        self.archived = archived
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

package struct SubscriptionResponse: Codable, Sendable, Equatable {
    package var organizationId: String
    package var plan: String
    /// trialing, active, past_due, suspended or canceled.
    package var status: String
    package var periodStart: Date
    package var periodEnd: Date
    package var trialEndsAt: Date?
    package var graceEndsAt: Date?
    package var cancelAtPeriodEnd: Bool
    /// A plan change that takes effect when the period ends.
    package var pendingPlan: String?
    package init(
        organizationId: String, plan: String, status: String, periodStart: Date, periodEnd: Date,
        cancelAtPeriodEnd: Bool
    ) {
        self.organizationId = organizationId
        self.plan = plan
        self.status = status
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.cancelAtPeriodEnd = cancelAtPeriodEnd
    }
}

/// `PUT /v1/organizations/{org}/subscription`: another plan, now (with proration) or when the
/// period ends.
package struct ChangeSubscriptionRequest: Codable, Sendable, Equatable {
    package var plan: String
    /// `now` (the default) or `period_end`.
    package var effective: String?
    package static let fields: Set<String> = ["plan", "effective"]
    package init(plan: String, effective: String? = nil) {
        self.plan = plan
        self.effective = effective
    }
}

package struct InvoiceLineResponse: Codable, Sendable, Equatable {
    /// base, proration or overage.
    package var kind: String
    package var description: String
    package var meter: String?
    package var quantity: Int64
    package var unitPriceMinor: Int64?
    package var amountMinor: Int64
    package init(kind: String, description: String, meter: String?, quantity: Int64, unitPriceMinor: Int64?, amountMinor: Int64) {
        self.kind = kind
        self.description = description
        self.meter = meter
        self.quantity = quantity
        self.unitPriceMinor = unitPriceMinor
        self.amountMinor = amountMinor
    }
}

/// Usage to date in the current period.
package struct BillingUsageResponse: Codable, Sendable, Equatable {
    /// Live sites now.
    package var sites: Int64
    /// Members and open invitations now.
    package var members: Int64
    /// Bytes of kept backups now (what the storage hard limit counts).
    package var storageBytes: Int64
    /// Metered totals of the period so far, by meter, in base units (hours, byte-hours, bytes).
    package var meters: [String: Int64]
    package init(sites: Int64, members: Int64, storageBytes: Int64, meters: [String: Int64]) {
        self.sites = sites
        self.members = members
        self.storageBytes = storageBytes
        self.meters = meters
    }
}

/// The invoice the current period would close with if usage stopped now.
package struct ProjectedInvoiceResponse: Codable, Sendable, Equatable {
    package var currency: String
    package var lines: [InvoiceLineResponse]
    package var totalMinor: Int64
    package init(currency: String, lines: [InvoiceLineResponse], totalMinor: Int64) {
        self.currency = currency
        self.lines = lines
        self.totalMinor = totalMinor
    }
}

/// `GET /v1/organizations/{org}/billing`.
package struct BillingResponse: Codable, Sendable, Equatable {
    package var subscription: SubscriptionResponse
    package var plan: PlanResponse
    package var usage: BillingUsageResponse
    package var projectedInvoice: ProjectedInvoiceResponse
    package init(
        subscription: SubscriptionResponse, plan: PlanResponse, usage: BillingUsageResponse,
        projectedInvoice: ProjectedInvoiceResponse
    ) {
        self.subscription = subscription
        self.plan = plan
        self.usage = usage
        self.projectedInvoice = projectedInvoice
    }
}

package struct CreditNoteResponse: Codable, Sendable, Equatable {
    package var id: String
    package var invoiceId: String
    package var number: Int64
    package var amountMinor: Int64
    package var currency: String
    package var reason: String
    package var createdAt: Date
    package init(
        id: String, invoiceId: String, number: Int64, amountMinor: Int64, currency: String, reason: String, createdAt: Date
    ) {
        self.id = id
        self.invoiceId = invoiceId
        self.number = number
        self.amountMinor = amountMinor
        self.currency = currency
        self.reason = reason
        self.createdAt = createdAt
    }
}

/// A finalized invoice. `lines` and `creditNotes` are present when one invoice is read.
package struct InvoiceResponse: Codable, Sendable, Equatable {
    package var id: String
    package var organizationId: String
    package var issuer: String
    package var number: Int64
    /// open, paid or void.
    package var status: String
    package var periodStart: Date
    package var periodEnd: Date
    package var plan: String
    package var currency: String
    package var totalMinor: Int64
    package var finalizedAt: Date
    package var paidAt: Date?
    package var lines: [InvoiceLineResponse]?
    package var creditNotes: [CreditNoteResponse]?
    package init(
        id: String, organizationId: String, issuer: String, number: Int64, status: String, periodStart: Date,
        periodEnd: Date, plan: String, currency: String, totalMinor: Int64, finalizedAt: Date
    ) {
        self.id = id
        self.organizationId = organizationId
        self.issuer = issuer
        self.number = number
        self.status = status
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.plan = plan
        self.currency = currency
        self.totalMinor = totalMinor
        self.finalizedAt = finalizedAt
    }
}

/// `PUT /v1/organizations/{org}/invoices/{id}/payment` (operators): a payment's outcome, as a
/// payment processor's webhook would report it: `paid` (the invoice is settled; a past-due or
/// suspended subscription is active again) or `failed` (a trialing or active subscription becomes
/// past due, suspended when the grace ends).
package struct RecordPaymentRequest: Codable, Sendable, Equatable {
    package var status: String
    package static let fields: Set<String> = ["status"]
    package init(status: String) { self.status = status }
}

/// `POST /v1/organizations/{org}/invoices/{id}/credit-notes` (operators): credits part or all of
/// a finalized invoice; the credit notes of an invoice never exceed its total.
package struct CreateCreditNoteRequest: Codable, Sendable, Equatable {
    package var amountMinor: Int64
    package var reason: String
    package static let fields: Set<String> = ["amountMinor", "reason"]
    package init(amountMinor: Int64, reason: String) {
        self.amountMinor = amountMinor
        self.reason = reason
    }
}

/// The answer to a Stripe webhook delivery (2xx: Stripe stops retrying it).
package struct StripeWebhookResponse: Codable, Sendable, Equatable {
    package var received: Bool
    /// What CHOM did with it: `applied: …`, `ignored: …`, or `duplicate: received before`.
    package var outcome: String
    package init(received: Bool, outcome: String) {
        self.received = received
        self.outcome = outcome
    }
}
