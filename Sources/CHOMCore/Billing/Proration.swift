package import Foundation

/// An amount of money in integer minor units (cents for EUR and USD) of an ISO 4217 currency.
/// Billing never uses floating point.
package struct Money: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    package var minor: Int64
    /// Three upper-case letters, e.g. "EUR".
    package var currency: String

    package init(minor: Int64, currency: String) throws(BillingRuleError) {
        guard currency.utf8.count == 3, currency.utf8.allSatisfy({ (65...90).contains($0) }) else {
            throw .invalidCurrency(currency)
        }
        self.minor = minor
        self.currency = currency
    }

    package var description: String { "\(minor) \(currency) minor units" }
}

/// A rule of billing arithmetic that the input breaks; `message` is for the caller (a 400 or 409).
package enum BillingRuleError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidCurrency(String)
    case currencyMismatch(String, String)
    case outsidePeriod
    case emptyPeriod
    case periodTooLong
    case negativePrice

    package var description: String {
        switch self {
        case .invalidCurrency(let code): "currency must be three upper-case letters (ISO 4217), not \"\(code.prefix(16))\""
        case .currencyMismatch(let old, let new): "a plan change cannot prorate between \(old) and \(new)"
        case .outsidePeriod: "the change is outside the current period"
        case .emptyPeriod: "the period is shorter than a second"
        case .periodTooLong: "the period is longer than ten years"
        case .negativePrice: "a price cannot be negative"
        }
    }
}

/// One line of a plan change's proration: a credit (negative) for the old plan's unused time, or a
/// charge for the new plan's remaining time.
package struct ProrationLine: Sendable, Equatable {
    package enum Kind: String, Sendable { case credit, charge }
    package var kind: Kind
    package var amount: Money
    /// The seconds of the period the line covers.
    package var seconds: Int64

    package init(kind: Kind, amount: Money, seconds: Int64) {
        self.kind = kind
        self.amount = amount
        self.seconds = seconds
    }
}

/// Proration of monthly prices, in whole seconds and integer minor units.
///
/// The rounding rule: a share of `amount` for `part` of `whole` seconds is the exact fraction
/// `amount × part / whole`, rounded to the nearest minor unit, halves away from zero. Both lines of
/// a change are rounded on their own, so a change and its reverse at the same second cancel out
/// exactly.
package enum Proration {
    /// `amount × part / whole` in minor units, rounded half away from zero (no overflow for any
    /// amount and period that fit in Int64): `InvoiceCalculator.scaled`, the one rounding rule.
    package static func share(of amount: Int64, part: Int64, whole: Int64) -> Int64 {
        precondition(whole > 0 && part >= 0 && part <= whole)
        return InvoiceCalculator.scaled(amount, by: part, per: whole)
    }

    /// The lines for changing from a plan priced `old` to one priced `new` at `at`, with immediate
    /// effect, within `period`: a credit for the old plan's unused seconds and a charge for the new
    /// plan's. Lines of zero are left out (a change at the period's end has none).
    package static func planChange(
        from old: Money, to new: Money, period: DateInterval, at: Date
    ) throws(BillingRuleError) -> [ProrationLine] {
        guard old.currency == new.currency else { throw .currencyMismatch(old.currency, new.currency) }
        guard old.minor >= 0, new.minor >= 0 else { throw .negativePrice }
        guard period.duration >= 1 else { throw .emptyPeriod }
        guard period.duration <= InvoiceCalculator.longestPeriod else { throw .periodTooLong }
        guard at >= period.start, at <= period.end else { throw .outsidePeriod }
        // Whole seconds from the period's start: the change's fraction of a second is dropped.
        let length = Int64(period.duration.rounded(.down))
        let elapsed = min(length, Int64(at.timeIntervalSince(period.start).rounded(.down)))
        let remaining = length - elapsed
        var lines: [ProrationLine] = []
        let credit = share(of: old.minor, part: remaining, whole: length)
        if credit != 0 {
            lines.append(ProrationLine(kind: .credit, amount: try Money(minor: -credit, currency: old.currency), seconds: remaining))
        }
        let charge = share(of: new.minor, part: remaining, whole: length)
        if charge != 0 {
            lines.append(ProrationLine(kind: .charge, amount: try Money(minor: charge, currency: new.currency), seconds: remaining))
        }
        return lines
    }
}
