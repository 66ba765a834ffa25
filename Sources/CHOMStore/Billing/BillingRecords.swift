package import CHOMCore
package import Foundation

/// An operator's plan as stored: the billing rules' `Plan` (limits of Int64.max are "unlimited",
/// NULL in the table) and what only the ledger needs.
package struct PlanRecord: Sendable, Equatable {
    package var plan: Plan
    package var name: String
    /// Site disk plus backups, in GB, over which new backups are refused; Int64.max: none.
    package var storageHardLimitGB: Int64
    package var stripePriceID: String?
    /// An archived plan keeps its subscribers but takes no new ones.
    package var archived: Bool
    package var createdAt: Date
    package var updatedAt: Date

    package init(
        plan: Plan, name: String, storageHardLimitGB: Int64 = .max, stripePriceID: String? = nil, archived: Bool = false,
        createdAt: Date, updatedAt: Date
    ) {
        self.plan = plan
        self.name = name
        self.storageHardLimitGB = storageHardLimitGB
        self.stripePriceID = stripePriceID
        self.archived = archived
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    package var code: String { plan.code }

    /// A limit of the plan for a quota: sites, members, or the hard storage limit in bytes.
    package func limit(_ quota: Quota) -> Int64 {
        switch quota {
        case .sites: plan.includedSites
        case .members: plan.includedMembers
        case .storage: InvoiceCalculator.multiply(storageHardLimitGB, InvoiceCalculator.bytesPerGB)
        }
    }
}

/// An organization's subscription (one each).
package struct SubscriptionRecord: Sendable, Equatable {
    package var organizationID: OrganizationID
    package var planCode: String
    package var status: SubscriptionStatus
    package var period: DateInterval
    /// The plan whose base fee the current period carries (the plan at the period's start).
    package var periodPlanCode: String
    package var trialEndsAt: Date?
    package var graceEndsAt: Date?
    package var cancelAtPeriodEnd: Bool
    /// A plan change that takes effect when the period ends.
    package var pendingPlanCode: String?
    package var stripeCustomerID: String?
    package var stripeSubscriptionID: String?
    package var createdAt: Date
    package var updatedAt: Date

    package init(
        organizationID: OrganizationID, planCode: String, status: SubscriptionStatus, period: DateInterval,
        periodPlanCode: String, trialEndsAt: Date? = nil, graceEndsAt: Date? = nil, cancelAtPeriodEnd: Bool = false,
        pendingPlanCode: String? = nil, stripeCustomerID: String? = nil, stripeSubscriptionID: String? = nil,
        createdAt: Date, updatedAt: Date
    ) {
        self.organizationID = organizationID
        self.planCode = planCode
        self.status = status
        self.period = period
        self.periodPlanCode = periodPlanCode
        self.trialEndsAt = trialEndsAt
        self.graceEndsAt = graceEndsAt
        self.cancelAtPeriodEnd = cancelAtPeriodEnd
        self.pendingPlanCode = pendingPlanCode
        self.stripeCustomerID = stripeCustomerID
        self.stripeSubscriptionID = stripeSubscriptionID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A line waiting for the period's invoice (a plan change's proration).
package struct BillingAdjustment: Sendable, Equatable {
    package enum Kind: String, Sendable { case prorationCredit = "proration_credit", prorationCharge = "proration_charge" }
    package var id: UUID
    package var kind: Kind
    package var description: String
    package var seconds: Int64
    package var amount: Money
    package var createdAt: Date

    package init(id: UUID = UUID(), kind: Kind, description: String, seconds: Int64, amount: Money, createdAt: Date) {
        self.id = id
        self.kind = kind
        self.description = description
        self.seconds = seconds
        self.amount = amount
        self.createdAt = createdAt
    }
}

/// One hour share of an agent's usage sample, ready to append (`BillingRepository.append`).
package struct UsageRow: Sendable, Equatable {
    package var key: UsageMetering.DedupeKey
    package var hour: Date
    package var meter: Meter
    package var quantity: Int64
    package var site: SiteID
    package var tenant: TenantID
    package var organization: OrganizationID

    package init(
        key: UsageMetering.DedupeKey, hour: Date, meter: Meter, quantity: Int64, site: SiteID, tenant: TenantID,
        organization: OrganizationID
    ) {
        self.key = key
        self.hour = hour
        self.meter = meter
        self.quantity = quantity
        self.site = site
        self.tenant = tenant
        self.organization = organization
    }
}

/// A finalized invoice: one per organization and period, numbered without gaps per issuer.
package struct InvoiceRecord: Sendable, Equatable {
    package enum Status: String, Sendable { case open, paid, void }
    package var id: UUID
    package var organizationID: OrganizationID
    package var issuer: String
    package var number: Int64
    package var status: Status
    package var period: DateInterval
    package var planCode: String
    package var currency: String
    package var totalMinor: Int64
    package var finalizedAt: Date
    package var paidAt: Date?
    package var stripeInvoiceID: String?
    /// In order; empty when the record was read without them.
    package var lines: [InvoiceLine]

    package init(
        id: UUID = UUID(), organizationID: OrganizationID, issuer: String, number: Int64, status: Status = .open,
        period: DateInterval, planCode: String, currency: String, totalMinor: Int64, finalizedAt: Date,
        paidAt: Date? = nil, stripeInvoiceID: String? = nil, lines: [InvoiceLine]
    ) {
        self.id = id
        self.organizationID = organizationID
        self.issuer = issuer
        self.number = number
        self.status = status
        self.period = period
        self.planCode = planCode
        self.currency = currency
        self.totalMinor = totalMinor
        self.finalizedAt = finalizedAt
        self.paidAt = paidAt
        self.stripeInvoiceID = stripeInvoiceID
        self.lines = lines
    }
}

/// A correction of a finalized invoice: an amount credited back, with its reason.
package struct CreditNoteRecord: Sendable, Equatable {
    package var id: UUID
    package var invoiceID: UUID
    package var issuer: String
    package var number: Int64
    package var amount: Money
    package var reason: String
    package var createdAt: Date

    package init(id: UUID = UUID(), invoiceID: UUID, issuer: String, number: Int64, amount: Money, reason: String, createdAt: Date) {
        self.id = id
        self.invoiceID = invoiceID
        self.issuer = issuer
        self.number = number
        self.amount = amount
        self.reason = reason
        self.createdAt = createdAt
    }
}
