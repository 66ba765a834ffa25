package import Crypto
package import Foundation

/// The audit log's hash chain. Each entry's hash is
/// `SHA-256(previousHash ‖ canonicalEncoding(entry))`, the first entry's previous hash being
/// 32 zero bytes, so that altering, removing or reordering any entry changes every hash after
/// it. Signed checkpoints (`AuditCheckpoint`) pin the head so that a truncated tail or a chain
/// recomputed after tampering is caught as well. Pure functions; the store holds the rows.
package enum AuditChain {
    package static let hashByteCount = 32
    /// The previous hash of entry 1.
    package static let genesisHash = [UInt8](repeating: 0, count: hashByteCount)

    /// The last entry of a chain: what an append needs to read (under a lock) before writing.
    package struct Head: Sendable, Hashable {
        package var sequence: Int64
        package var hash: [UInt8]

        package init(sequence: Int64, hash: [UInt8]) {
            self.sequence = sequence
            self.hash = hash
        }

        /// The head of an empty chain.
        package static let genesis = Head(sequence: 0, hash: genesisHash)
    }

    /// The canonical encoding of `entry` (documented on `AuditEntry.canonicalBytes`).
    package static func canonicalEncoding(_ entry: AuditEntry) -> Data {
        entry.canonicalEncoding
    }

    /// `SHA-256(previousHash ‖ canonicalEncoding(entry))`.
    package static func hash(of entry: AuditEntry, previousHash: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previousHash)
        hasher.update(data: entry.canonicalBytes)
        return Array(hasher.finalize())
    }

    /// Links `entry` after `head`: assigns the next sequence and computes the hash. The caller
    /// writes the result in the same transaction as the change, with `head` read under a lock
    /// so concurrent appends cannot both take the same sequence.
    package static func append(_ entry: AuditEntry, after head: Head) -> StoredAuditEntry {
        var entry = entry
        entry.sequence = head.sequence + 1
        return StoredAuditEntry(entry: entry, previousHash: head.hash, hash: hash(of: entry, previousHash: head.hash))
    }

    /// Links a whole list from the genesis head, numbering from 1 (fixtures, imports).
    package static func build(_ entries: some Sequence<AuditEntry>) -> [StoredAuditEntry] {
        var head = Head.genesis
        var stored: [StoredAuditEntry] = []
        for entry in entries {
            let next = append(entry, after: head)
            head = Head(sequence: next.sequence, hash: next.hash)
            stored.append(next)
        }
        return stored
    }

    /// Walks `entries` (the whole chain, in order from sequence 1) and names the first broken
    /// entry and why; with a checkpoint, also checks its signature against `publicKeys`, that the
    /// chain reaches it, and that the hash at its sequence is the signed one.
    package static func verify(
        entries: some Sequence<StoredAuditEntry>, checkpoint: AuditCheckpoint? = nil,
        publicKeys: [Curve25519.Signing.PublicKey] = []
    ) -> VerificationResult {
        verify(entries: entries, checkpoints: checkpoint.map { [$0] } ?? [], publicKeys: publicKeys)
    }

    /// As `verify(entries:checkpoint:publicKeys:)` with several checkpoints: each one that the
    /// chain disagrees with narrows down where it was rewritten.
    package static func verify(
        entries: some Sequence<StoredAuditEntry>, checkpoints: [AuditCheckpoint],
        publicKeys: [Curve25519.Signing.PublicKey]
    ) -> VerificationResult {
        var verifier = AuditChainVerifier(checkpoints: checkpoints, publicKeys: publicKeys)
        for entry in entries {
            guard verifier.feed(entry) else { break }
        }
        return verifier.finish()
    }
}
