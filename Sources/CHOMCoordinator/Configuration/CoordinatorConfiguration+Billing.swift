package import CHOMAPI
package import CHOMCore
package import CHOMStore
package import Foundation

extension CoordinatorConfiguration {
    /// Billing (the issue "Billing"): the plan every organization without a subscription gets.
    package struct Billing: Sendable, Codable, Equatable {
        /// A plan's terms as written in the configuration: the body of `POST /v1/billing/plans`
        /// (`PlanRequest`, without `archived`), one type and one rule (`record(now:what:)`). A limit
        /// left out (or null) is unlimited.
        package typealias PlanTerms = PlanRequest

        package var defaultPlan = PlanTerms.unmetered
        /// Who issues the invoices: each issuer numbers its invoices (and its credit notes) from 1
        /// without gaps. Printed on every invoice.
        package var issuer = "CHOM"
        /// How often the leader closes the periods that have ended, suspends past-due
        /// organizations whose grace has ended, and brings their sites in step.
        package var closeIntervalSeconds = 60.0
        /// How long after a period's end it is closed, so that the usage of its last hours (sent by
        /// the agents once each hour has ended, later by one that reconnects late) is on its invoice.
        package var closeDelaySeconds = 7_200.0
        /// From a failed payment to the suspension of the organization's sites.
        package var graceDays = 7.0
        /// The signing secret of Stripe's webhook endpoint (`whsec_…`), read from this file;
        /// `CHOM_STRIPE_WEBHOOK_SECRET` takes precedence. Neither: the webhook route answers 404.
        package var stripeWebhookSecretFile: String?
        package init() {}
    }
}

extension CoordinatorConfiguration.Billing {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        defaultPlan = try c.decodeIfPresent(PlanTerms.self, forKey: .defaultPlan) ?? defaultPlan
        issuer = try c.decodeIfPresent(String.self, forKey: .issuer) ?? issuer
        closeIntervalSeconds = try c.decodeIfPresent(Double.self, forKey: .closeIntervalSeconds) ?? closeIntervalSeconds
        graceDays = try c.decodeIfPresent(Double.self, forKey: .graceDays) ?? graceDays
        closeDelaySeconds = try c.decodeIfPresent(Double.self, forKey: .closeDelaySeconds) ?? closeDelaySeconds
        stripeWebhookSecretFile = try c.decodeIfPresent(String.self, forKey: .stripeWebhookSecretFile)
    }

    package func validate() throws {
        do {
            _ = try defaultPlan.record(now: Date(timeIntervalSince1970: 0), what: "billing.defaultPlan")
        } catch let error as CHOMError {
            throw CHOMError(.configuration, error.message)
        }
        let name = issuer.trimmingCharacters(in: .whitespaces)
        guard (1...200).contains(name.count), name == issuer,
            !issuer.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
        else {
            throw CHOMError(.configuration, "billing.issuer must be 1 to 200 characters without control characters or surrounding spaces")
        }
        guard graceDays >= 0, graceDays <= 365 else {
            throw CHOMError(.configuration, "billing.graceDays must be between 0 and 365, not \(graceDays)")
        }
        guard closeDelaySeconds >= 0, closeDelaySeconds <= 31 * 86_400 else {
            throw CHOMError(.configuration, "billing.closeDelaySeconds must be between 0 and 2678400, not \(closeDelaySeconds)")
        }
        guard closeIntervalSeconds >= 1 else {
            throw CHOMError(.configuration, "billing.closeIntervalSeconds must be at least 1, not \(closeIntervalSeconds)")
        }
    }
}

extension PlanRequest {
    /// Free and without limits: what organizations get when nothing else is configured, so that
    /// billing's arrival changes nothing for an existing installation.
    package static let unmetered = PlanRequest(code: "unmetered", name: "Unmetered", currency: "EUR", monthlyPriceMinor: 0)

    /// The stored plan these terms describe, or a clear error naming what is wrong (a 400 from the
    /// API, a refused start from the configuration).
    package func record(now: Date, what: String = "the plan") throws -> PlanRecord {
        func fail(_ message: String) -> CHOMError { CHOMError(.invalidInput, "\(what): \(message)") }
        guard code.range(of: #"^[a-z0-9][a-z0-9._-]{0,62}$"#, options: .regularExpression) != nil else {
            throw fail("code must be 1 to 63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
        let name = name.trimmingCharacters(in: .whitespaces)
        guard (1...200).contains(name.count) else { throw fail("name must be 1 to 200 characters") }
        guard monthlyPriceMinor >= 0 else { throw fail("monthlyPriceMinor cannot be negative") }
        let limits: [(String, Int64?)] = [
            ("includedSites", includedSites), ("includedStorageGB", includedStorageGB),
            ("includedBandwidthGB", includedBandwidthGB), ("includedBackupGB", includedBackupGB),
            ("includedMembers", includedMembers), ("storageHardLimitGB", storageHardLimitGB),
        ]
        for (key, value) in limits where (value ?? 0) < 0 {
            throw fail("\(key) cannot be negative (leave it out for unlimited)")
        }
        let trial = trialDays ?? 0
        guard (0...365).contains(trial) else { throw fail("trialDays must be between 0 and 365") }
        let price: Money
        do { price = try Money(minor: monthlyPriceMinor, currency: currency) } catch { throw fail(error.description) }
        var prices: [Meter: Money] = [:]
        for (key, minor) in overage ?? [:] {
            guard let meter = Meter(rawValue: key) else {
                throw fail("overage has an unknown meter \"\(key.prefix(40))\" (site_hours, storage_byte_hours, bandwidth_bytes, backup_byte_hours)")
            }
            guard minor >= 0 else { throw fail("overage prices cannot be negative") }
            prices[meter] = try Money(minor: minor, currency: price.currency)
        }
        let plan = Plan(
            code: code, monthlyPrice: price, includedSites: includedSites ?? .max,
            includedStorageGB: includedStorageGB ?? .max, includedBandwidthGB: includedBandwidthGB ?? .max,
            includedBackupGB: includedBackupGB ?? .max, includedMembers: includedMembers ?? .max, overage: prices,
            trialDays: trial)
        if let price = stripePriceId, price.range(of: #"^[A-Za-z0-9_-]{1,200}$"#, options: .regularExpression) == nil {
            throw fail("stripePriceId must be 1 to 200 letters, digits, '_' or '-'")
        }
        return PlanRecord(
            plan: plan, name: name, storageHardLimitGB: storageHardLimitGB ?? .max, stripePriceID: stripePriceId,
            archived: archived ?? false, createdAt: now, updatedAt: now)
    }
}

extension CoordinatorConfiguration.Billing {
    /// Stripe's webhook signing secret: `CHOM_STRIPE_WEBHOOK_SECRET`, else the file (read each time,
    /// so a rotated secret needs no restart); nil when neither is set.
    func stripeWebhookSecret(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if let value = environment["CHOM_STRIPE_WEBHOOK_SECRET"], !value.isEmpty { return value }
        guard let file = stripeWebhookSecretFile else { return nil }
        do {
            let secret = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return secret.isEmpty ? nil : secret
        } catch {
            throw CHOMError(.configuration, "cannot read billing.stripeWebhookSecretFile \(file)")
        }
    }
}
