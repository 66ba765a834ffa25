package import Foundation

/// One entry of the audit log, as appended in the same transaction as the change it records.
///
/// `sequence` is gap-free from 1, assigned by the appending transaction (see
/// `AuditChain.append(_:after:)`). `time` keeps millisecond precision: the initializer rounds
/// it, which is what the canonical encoding covers. `details` never holds a secret.
/// Strings that are not applicable are empty (`requestID` of a task outcome, for example);
/// the optional organization and tenant are absent for fleet-wide events.
package struct AuditEntry: Sendable, Hashable {
    package var sequence: Int64
    package var time: Date
    /// Who acted: a user id, `operator:<id>`, `agent:<id>` or `system`.
    package var actor: String
    package var organizationID: String?
    package var tenantID: String?
    /// What happened, as a stable dotted name: `auth.login.failed`, `site.create`, …
    package var action: String
    /// What it happened to, e.g. `site:<id>`.
    package var target: String
    package var requestID: String
    package var sourceAddress: String
    package var details: [String: String]

    package init(
        sequence: Int64 = 0, time: Date, actor: String, organizationID: String? = nil, tenantID: String? = nil,
        action: String, target: String, requestID: String = "", sourceAddress: String = "",
        details: [String: String] = [:]
    ) {
        self.sequence = sequence
        self.time = AuditTimestamp.normalized(time)
        self.actor = actor
        self.organizationID = organizationID
        self.tenantID = tenantID
        self.action = action
        self.target = target
        self.requestID = requestID
        self.sourceAddress = sourceAddress
        self.details = details
    }
}

/// An audit entry as stored: the entry, the hash of the entry before it (32 zero bytes for
/// the first) and its own hash, `SHA-256(previousHash ‖ canonicalEncoding(entry))`.
/// Keeping `previousHash` on the row lets verification tell an altered entry (its own hash
/// no longer matches) from a broken link (it no longer points at the entry before it).
package struct StoredAuditEntry: Sendable, Hashable {
    package var entry: AuditEntry
    package var previousHash: [UInt8]
    package var hash: [UInt8]

    package init(entry: AuditEntry, previousHash: [UInt8], hash: [UInt8]) {
        self.entry = entry
        self.previousHash = previousHash
        self.hash = hash
    }

    package var sequence: Int64 { entry.sequence }
}
