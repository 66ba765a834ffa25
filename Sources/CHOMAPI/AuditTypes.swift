package import Foundation

// The hash-chained audit log (`/v1/audit`, `/v1/audit/verify`, `/v1/audit/checkpoints`).

package struct AuditEntryResponse: Codable, Sendable, Equatable {
    package var sequence: Int64
    package var time: Date
    package var actor: String
    package var organizationId: String?
    package var tenantId: String?
    package var action: String
    package var target: String
    package var requestId: String
    package var sourceAddress: String
    package var details: [String: String]
    /// Lowercase hex.
    package var hash: String
    /// Lowercase hex: the previous entry's `hash`.
    package var previousHash: String
    package init(
        sequence: Int64, time: Date, actor: String, organizationId: String?, tenantId: String?, action: String,
        target: String, requestId: String, sourceAddress: String, details: [String: String], hash: String,
        previousHash: String
    ) {
        self.sequence = sequence
        self.time = time
        self.actor = actor
        self.organizationId = organizationId
        self.tenantId = tenantId
        self.action = action
        self.target = target
        self.requestId = requestId
        self.sourceAddress = sourceAddress
        self.details = details
        self.hash = hash
        self.previousHash = previousHash
    }
}

/// The filters of `GET /v1/audit`, all optional; `since` and `until` are sent as ISO-8601 UTC.
package struct AuditFilter: Sendable, Equatable {
    package var action: String?
    package var actor: String?
    package var since: Date?
    package var until: Date?
    package init(action: String? = nil, actor: String? = nil, since: Date? = nil, until: Date? = nil) {
        self.action = action
        self.actor = actor
        self.since = since
        self.until = until
    }

    /// The query parameters, in a fixed order, with nil for an absent filter.
    package var queryItems: [(name: String, value: String?)] {
        [
            ("action", action), ("actor", actor),
            ("since", since.map { $0.formatted(.iso8601) }), ("until", until.map { $0.formatted(.iso8601) }),
        ]
    }
}

/// Checks the chain against checkpoints kept elsewhere.
package struct AuditVerifyRequest: Codable, Sendable, Equatable {
    /// JSON lines, exactly as `GET /v1/audit/checkpoints` exports them.
    package var checkpoints: String
    package static let fields: Set<String> = ["checkpoints"]
    package init(checkpoints: String) { self.checkpoints = checkpoints }
}

package struct AuditVerifyResponse: Codable, Sendable, Equatable {
    package var intact: Bool
    package var entries: Int
    package var headSequence: Int64
    /// Lowercase hex.
    package var headHash: String
    package var checkpointsChecked: Int
    package var firstBrokenSequence: Int64?
    /// One of `AuditVerifyResponse.reasons` when the chain is broken.
    package var reason: String?
    package var detail: String?

    /// The codes of `reason`.
    package static let reasons: Set<String> = [
        "sequence_gap", "sequence_out_of_order", "hash_mismatch", "chain_link_mismatch", "truncated",
        "checkpoint_mismatch", "checkpoint_signature_invalid",
    ]

    package init(
        intact: Bool, entries: Int, headSequence: Int64, headHash: String, checkpointsChecked: Int,
        firstBrokenSequence: Int64? = nil, reason: String? = nil, detail: String? = nil
    ) {
        self.intact = intact
        self.entries = entries
        self.headSequence = headSequence
        self.headHash = headHash
        self.checkpointsChecked = checkpointsChecked
        self.firstBrokenSequence = firstBrokenSequence
        self.reason = reason
        self.detail = detail
    }
}
