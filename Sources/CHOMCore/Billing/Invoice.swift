package import Foundation

/// What CHOM meters, each counted in an integer base unit (the issue "Billing": usage metering).
package enum Meter: String, Sendable, Codable, CaseIterable, Comparable {
    /// Hours a site existed (site-hours).
    case siteHours = "site_hours"
    /// A site's disk use over time (byte-hours).
    case storageByteHours = "storage_byte_hours"
    /// Bytes served (from the access logs).
    case bandwidthBytes = "bandwidth_bytes"
    /// Backup storage over time (byte-hours).
    case backupByteHours = "backup_byte_hours"

    package static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// An operator's plan. GB are decimal (10^9 bytes). Prices are per month; a period of another
/// length is charged by its hours against a 30-day month's 720 (see `InvoiceCalculator`).
package struct Plan: Sendable, Equatable, Codable {
    package var code: String
    package var monthlyPrice: Money
    package var includedSites: Int64
    package var includedStorageGB: Int64
    package var includedBandwidthGB: Int64
    package var includedBackupGB: Int64
    package var includedMembers: Int64
    /// The price of one unit over the included amount: a site-month, a GB-month of storage, a GB of
    /// bandwidth, a GB-month of backups. A meter without a price is not charged over its limit.
    package var overage: [Meter: Money]
    package var trialDays: Int

    package init(
        code: String, monthlyPrice: Money, includedSites: Int64, includedStorageGB: Int64, includedBandwidthGB: Int64,
        includedBackupGB: Int64, includedMembers: Int64, overage: [Meter: Money] = [:], trialDays: Int = 0
    ) {
        self.code = code
        self.monthlyPrice = monthlyPrice
        self.includedSites = includedSites
        self.includedStorageGB = includedStorageGB
        self.includedBandwidthGB = includedBandwidthGB
        self.includedBackupGB = includedBackupGB
        self.includedMembers = includedMembers
        self.overage = overage
        self.trialDays = trialDays
    }
}

/// One line of an invoice: what, how much (in the meter's base unit, or hours for the base fee),
/// and the amount in minor units.
package struct InvoiceLine: Sendable, Equatable, Codable {
    package enum Kind: String, Sendable, Codable { case base, proration, overage }
    package var kind: Kind
    package var description: String
    /// The meter, for overage lines.
    package var meter: Meter?
    package var quantity: Int64
    /// The price per plan unit (a month, a site-month, a GB-month, a GB).
    package var unitPrice: Money?
    package var amount: Money

    package init(kind: Kind, description: String, meter: Meter? = nil, quantity: Int64, unitPrice: Money? = nil, amount: Money) {
        self.kind = kind
        self.description = description
        self.meter = meter
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.amount = amount
    }
}

/// The lines of a period's invoice from the plan and the period's metered totals, as a pure rule.
///
/// - **Base fee:** the plan's monthly price for the period's hours against 720 (a 30-day period
///   is the price exactly), unless the period is in the trial.
/// - **Overage, per meter with a price:** the usage over the plan's included amount for the
///   period, priced per plan unit:
///   - sites: site-hours over `includedSites × hours`, per site-month of 720 hours;
///   - storage and backups: byte-hours over `included GB × 10^9 × hours`, per GB-month
///     (10^9 × 720 byte-hours);
///   - bandwidth: bytes over `included GB × 10^9`, per GB.
/// - Every amount is rounded on its own to the nearest minor unit, halves away from zero (the
///   rule of `Proration.share`); quantities are never rounded.
package enum InvoiceCalculator {
    package static let hoursPerMonth: Int64 = 720
    /// The longest period billed at once: ten years of seconds.
    package static let longestPeriod: TimeInterval = 10 * 366 * 86_400
    package static let bytesPerGB: Int64 = 1_000_000_000

    package static func lines(
        plan: Plan, period: DateInterval, usage: [Meter: Int64], inTrial: Bool = false
    ) throws(BillingRuleError) -> [InvoiceLine] {
        guard period.duration >= 1 else { throw .emptyPeriod }
        guard period.duration <= InvoiceCalculator.longestPeriod else { throw .periodTooLong }
        let seconds = Int64(period.duration.rounded(.down))
        // Whole hours, rounded up: a period of 30 days and a second is 721 hours.
        let hours = (seconds + 3_599) / 3_600
        let currency = plan.monthlyPrice.currency
        guard plan.monthlyPrice.minor >= 0, plan.overage.values.allSatisfy({ $0.minor >= 0 }) else { throw .negativePrice }
        var lines: [InvoiceLine] = []
        if !inTrial {
            lines.append(InvoiceLine(
                kind: .base, description: "plan \(plan.code), \(hours) hours", quantity: hours, unitPrice: plan.monthlyPrice,
                amount: try baseFee(plan.monthlyPrice, period: period)))
        }
        for meter in Meter.allCases {
            guard let price = plan.overage[meter] else { continue }
            guard price.currency == currency else { throw .currencyMismatch(currency, price.currency) }
            let used = max(0, usage[meter] ?? 0)
            let included: Int64
            let perUnit: Int64
            let what: String
            switch meter {
            case .siteHours:
                (included, perUnit, what) = (multiply(plan.includedSites, hours), hoursPerMonth, "site-hours over \(plan.includedSites) sites")
            case .storageByteHours:
                (included, perUnit) = gbMonths(plan.includedStorageGB, hours: hours)
                what = "storage byte-hours over \(plan.includedStorageGB) GB"
            case .bandwidthBytes:
                (included, perUnit, what) = (multiply(plan.includedBandwidthGB, bytesPerGB), bytesPerGB, "bandwidth bytes over \(plan.includedBandwidthGB) GB")
            case .backupByteHours:
                (included, perUnit) = gbMonths(plan.includedBackupGB, hours: hours)
                what = "backup byte-hours over \(plan.includedBackupGB) GB"
            }
            let over = used > included ? used - included : 0
            guard over > 0 else { continue }
            lines.append(InvoiceLine(
                kind: .overage, description: what, meter: meter, quantity: over, unitPrice: price,
                amount: try Money(minor: scaled(price.minor, by: over, per: perUnit), currency: currency)))
        }
        return lines
    }

    /// A monthly price for `period`: its hours (rounded up) against 720. A plan change prorates this
    /// amount, so a credit never exceeds what the period's base line charged.
    package static func baseFee(_ monthly: Money, period: DateInterval) throws(BillingRuleError) -> Money {
        guard period.duration >= 1 else { throw .emptyPeriod }
        guard period.duration <= longestPeriod else { throw .periodTooLong }
        let hours = (Int64(period.duration.rounded(.down)) + 3_599) / 3_600
        return try Money(minor: scaled(monthly.minor, by: hours, per: hoursPerMonth), currency: monthly.currency)
    }

    /// `amount × numerator / denominator`, rounded half away from zero, saturating at Int64's range.
    package static func scaled(_ amount: Int64, by numerator: Int64, per denominator: Int64) -> Int64 {
        precondition(numerator >= 0 && denominator > 0)
        let product = amount.magnitude.multipliedFullWidth(by: numerator.magnitude)
        guard product.high < denominator.magnitude else { return amount < 0 ? .min : .max }
        let (quotient, remainder) = denominator.magnitude.dividingFullWidth(product)
        let roundsUp = remainder >= denominator.magnitude - remainder
        guard !(roundsUp && quotient == .max) else { return amount < 0 ? .min : .max }
        let rounded = roundsUp ? quotient + 1 : quotient
        if amount < 0 { return rounded > UInt64(Int64.max) + 1 ? .min : Int64(truncatingIfNeeded: 0 &- rounded) }
        return rounded > UInt64(Int64.max) ? .max : Int64(rounded)
    }

    /// For a byte-hours meter: the byte-hours `gb` include over `hours`, and the byte-hours of one
    /// GB-month.
    private static func gbMonths(_ gb: Int64, hours: Int64) -> (included: Int64, perUnit: Int64) {
        (multiply(multiply(gb, bytesPerGB), hours), multiply(bytesPerGB, hoursPerMonth))
    }

    /// A product of non-negative limits, saturating (a plan's "unlimited" is Int64.max); a negative
    /// limit counts as none.
    package static func multiply(_ lhs: Int64, _ rhs: Int64) -> Int64 {
        let (product, overflow) = max(0, lhs).multipliedReportingOverflow(by: max(0, rhs))
        return overflow ? .max : product
    }
}
