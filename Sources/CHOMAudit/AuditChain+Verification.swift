import CHOMCore
extension AuditChain {
    /// What a verification found.
    package enum VerificationResult: Sendable, Hashable, CustomStringConvertible {
        /// Every entry checks out (and every checkpoint given): `count` entries, ending in `headHash`.
        case intact(count: Int, headHash: [UInt8])
        /// The chain is good up to `firstBadSequence - 1` and not beyond.
        case broken(firstBadSequence: Int64, reason: BreakReason)

        package var isIntact: Bool {
            if case .intact = self { true } else { false }
        }

        package var description: String {
            switch self {
            case .intact(let count, let headHash):
                "intact: \(count) entries, head \(Hex.encode(headHash))"
            case .broken(let sequence, let reason):
                "broken at sequence \(sequence): \(reason)"
            }
        }
    }

    /// Why a chain is broken.
    package enum BreakReason: Sendable, Hashable, CustomStringConvertible {
        /// Entry `expected` is missing: the next one present is `found` (a deleted entry).
        case sequenceGap(expected: Int64, found: Int64)
        /// Entry `found` comes where `expected` should, and `expected` is elsewhere or repeated
        /// (entries swapped, duplicated or moved).
        case sequenceOutOfOrder(expected: Int64, found: Int64)
        /// The entry's stored hash is not the hash of its contents: the entry was altered.
        case hashMismatch
        /// The entry's previous hash is not the hash of the entry before it: the entry before it
        /// was rewritten (and re-hashed), or this row was linked elsewhere.
        case chainLinkMismatch
        /// The chain ends at `lastSequence`, before the signed checkpoint at `checkpointSequence`.
        case truncated(checkpointSequence: Int64, lastSequence: Int64)
        /// The hash at the checkpoint's sequence is not the one it signed: the chain was
        /// recomputed after a change somewhere at or before that sequence.
        case checkpointMismatch(checkpointSequence: Int64)
        /// The checkpoint's signature does not verify under any trusted key.
        case checkpointSignatureInvalid(keyID: String)

        /// A low-cardinality label for logs, metrics and the API.
        package var code: String {
            switch self {
            case .sequenceGap: "sequence_gap"
            case .sequenceOutOfOrder: "sequence_out_of_order"
            case .hashMismatch: "hash_mismatch"
            case .chainLinkMismatch: "chain_link_mismatch"
            case .truncated: "truncated"
            case .checkpointMismatch: "checkpoint_mismatch"
            case .checkpointSignatureInvalid: "checkpoint_signature_invalid"
            }
        }

        package var description: String {
            switch self {
            case .sequenceGap(let expected, let found):
                "sequence gap: expected \(expected), found \(found) (an entry was deleted)"
            case .sequenceOutOfOrder(let expected, let found):
                "sequence out of order: expected \(expected), found \(found) (entries were swapped or moved)"
            case .hashMismatch:
                "hash mismatch: the entry was altered after it was written"
            case .chainLinkMismatch:
                "chain link mismatch: the entry does not link to the entry before it"
            case .truncated(let checkpointSequence, let lastSequence):
                "truncated: the chain ends at \(lastSequence), before the signed checkpoint at \(checkpointSequence)"
            case .checkpointMismatch(let checkpointSequence):
                "checkpoint mismatch: the hash at \(checkpointSequence) is not the signed one (the chain was recomputed)"
            case .checkpointSignatureInvalid(let keyID):
                "checkpoint signature invalid: not signed by a trusted key (key id \(keyID))"
            }
        }
    }
}
