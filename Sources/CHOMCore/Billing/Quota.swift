/// What a plan limits where the work starts (the issue "Billing": quotas).
package enum Quota: String, Sendable, Codable, CaseIterable {
    /// Live sites of the organization (not removing or removed).
    case sites
    /// Members of the organization plus its open invitations.
    case members
    /// Site disk and backups, in bytes, against the plan's hard storage limit: over it, no new backup.
    case storage
}

/// A request that would take the organization over a limit of its plan: 403, problem type
/// `quota-exceeded`, naming the limit and the usage.
package struct QuotaExceeded: Error, Sendable, Equatable, CustomStringConvertible {
    package static let problemType = "https://chom.dev/problems/quota-exceeded"
    package var quota: Quota
    package var limit: Int64
    package var usage: Int64
    package var plan: String

    package init(quota: Quota, limit: Int64, usage: Int64, plan: String) {
        self.quota = quota
        self.limit = limit
        self.usage = usage
        self.plan = plan
    }

    package var description: String {
        switch quota {
        case .sites: "the plan \(plan) allows \(limit) sites and the organization has \(usage)"
        case .members: "the plan \(plan) allows \(limit) members and the organization has \(usage) with its open invitations"
        case .storage: "the plan \(plan) allows \(limit) bytes of storage and the organization uses \(usage)"
        }
    }
}

/// The quota rule, pure: `adding` more of `quota` is allowed while the usage after it stays within
/// the limit. Int64.max is "unlimited"; a negative limit allows nothing. Storage is a hard limit
/// on what is already used: at or over it, nothing more (a backup's size is not known before it runs).
package enum QuotaPolicy {
    package static func check(
        _ quota: Quota, limit: Int64, usage: Int64, adding: Int64 = 1, plan: String
    ) throws(QuotaExceeded) {
        guard limit != .max else { return }
        let allowed: Bool
        switch quota {
        case .sites, .members:
            let (after, overflow) = max(0, usage).addingReportingOverflow(max(0, adding))
            allowed = !overflow && after <= limit
        case .storage:
            allowed = usage < limit
        }
        guard allowed else { throw QuotaExceeded(quota: quota, limit: max(0, limit), usage: max(0, usage), plan: plan) }
    }
}
