package import Crypto

/// Verifies an audit chain fed one entry at a time, in sequence order, so that
/// `chom audit verify` can stream a table of any size page by page in constant memory.
/// `AuditChain.verify(entries:…)` is this over a sequence.
///
/// Per entry, in order: the sequence is the next one (else a gap or out of order), the stored
/// previous hash is the hash of the entry before (else a chain link mismatch), and the stored
/// hash is `SHA-256(previousHash ‖ canonicalEncoding)` (else a hash mismatch). Each trusted
/// checkpoint is compared when the walk reaches its sequence; one the walk never reaches is a
/// truncated tail. When several things are wrong, the lowest sequence is reported.
package struct AuditChainVerifier: Sendable {
    private enum State: Sendable {
        case walking
        /// Entry `expected` was not where it should be; the rest is scanned for it to tell
        /// a deletion (never found) from a reordering (found later).
        case missing(expected: Int64, found: Int64)
        case broken(sequence: Int64, reason: AuditChain.BreakReason)
    }

    private var state = State.walking
    private var head = AuditChain.Head.genesis
    /// Checkpoints whose signature verified, by ascending sequence, not yet reached.
    private var pending: [AuditCheckpoint] = []
    private var nextPending = 0
    /// The earliest checkpoint problem seen so far.
    private var checkpointBreak: (sequence: Int64, reason: AuditChain.BreakReason)?

    package init(checkpoints: [AuditCheckpoint] = [], publicKeys: [Curve25519.Signing.PublicKey] = []) {
        for checkpoint in checkpoints {
            if !checkpoint.verify(publicKeys: publicKeys) {
                record(checkpoint.sequence, .checkpointSignatureInvalid(keyID: String(checkpoint.keyID.prefix(32))))
            } else if checkpoint.sequence <= 0 {
                // A checkpoint of the empty chain signs the genesis hash; nothing signs below it.
                if checkpoint.sequence < 0 || checkpoint.headHash != AuditChain.genesisHash {
                    record(checkpoint.sequence, .checkpointMismatch(checkpointSequence: checkpoint.sequence))
                }
            } else {
                pending.append(checkpoint)
            }
        }
        pending.sort { $0.sequence < $1.sequence }
    }

    /// Checks the next entry. Returns false once the outcome is settled and the remaining
    /// entries need not be read.
    package mutating func feed(_ stored: StoredAuditEntry) -> Bool {
        switch state {
        case .broken:
            return false
        case .missing(let expected, let found):
            guard stored.sequence == expected else { return true }
            state = .broken(sequence: expected, reason: .sequenceOutOfOrder(expected: expected, found: found))
            return false
        case .walking:
            let expected = head.sequence + 1
            if stored.sequence < expected {
                state = .broken(
                    sequence: expected, reason: .sequenceOutOfOrder(expected: expected, found: stored.sequence))
                return false
            }
            if stored.sequence > expected {
                state = .missing(expected: expected, found: stored.sequence)
                return true
            }
            guard stored.previousHash == head.hash else {
                state = .broken(sequence: expected, reason: .chainLinkMismatch)
                return false
            }
            guard AuditChain.hash(of: stored.entry, previousHash: stored.previousHash) == stored.hash else {
                state = .broken(sequence: expected, reason: .hashMismatch)
                return false
            }
            head = AuditChain.Head(sequence: expected, hash: stored.hash)
            while nextPending < pending.count, pending[nextPending].sequence == expected {
                if pending[nextPending].headHash != stored.hash {
                    record(expected, .checkpointMismatch(checkpointSequence: expected))
                }
                nextPending += 1
            }
            return true
        }
    }

    /// The outcome for everything fed so far, taken as the whole chain.
    package func finish() -> AuditChain.VerificationResult {
        var walkBreak: (sequence: Int64, reason: AuditChain.BreakReason)?
        switch state {
        case .walking:
            if nextPending < pending.count {
                let checkpoint = pending[nextPending]
                walkBreak = (
                    head.sequence + 1,
                    .truncated(checkpointSequence: checkpoint.sequence, lastSequence: head.sequence)
                )
            }
        case .missing(let expected, let found):
            walkBreak = (expected, .sequenceGap(expected: expected, found: found))
        case .broken(let sequence, let reason):
            walkBreak = (sequence, reason)
        }
        switch (walkBreak, checkpointBreak) {
        case (nil, nil):
            return .intact(count: Int(head.sequence), headHash: head.hash)
        case (let walk?, nil):
            return .broken(firstBadSequence: walk.sequence, reason: walk.reason)
        case (nil, let checkpoint?):
            return .broken(firstBadSequence: checkpoint.sequence, reason: checkpoint.reason)
        case (let walk?, let checkpoint?):
            let first = checkpoint.sequence < walk.sequence ? checkpoint : walk
            return .broken(firstBadSequence: first.sequence, reason: first.reason)
        }
    }

    private mutating func record(_ sequence: Int64, _ reason: AuditChain.BreakReason) {
        if let existing = checkpointBreak, existing.sequence <= sequence { return }
        checkpointBreak = (sequence, reason)
    }
}
