import CHOMAPI
import CHOMAudit
import CHOMCore
import CHOMStore
import Crypto
import Foundation

/// Verifies the whole audit chain against its signed checkpoints: `chom audit verify` on demand
/// and the leader's periodic self-check (`audit.verify`), which sets
/// `chom_coordinator_audit_chain_intact` so that a broken chain raises an alert.
struct AuditSelfCheck: Sendable {
    let store: Store
    let publicKey: Curve25519.Signing.PublicKey

    /// Walks the whole chain against the stored checkpoints plus `extra` (exported ones).
    func verify(extra: [AuditCheckpoint] = []) async throws -> AuditVerifyResponse {
        var checkpoints = try await store.audit.checkpoints()
        for checkpoint in extra where !checkpoints.contains(checkpoint) { checkpoints.append(checkpoint) }
        checkpoints.sort { $0.sequence < $1.sequence }
        var verifier = AuditChainVerifier(checkpoints: checkpoints, publicKeys: [publicKey])
        var last = AuditChain.Head.genesis
        try await store.audit.walk { stored in
            last = AuditChain.Head(sequence: stored.sequence, hash: stored.hash)
            return verifier.feed(stored)
        }
        switch verifier.finish() {
        case .intact(let count, let head):
            return AuditVerifyResponse(
                intact: true, entries: count, headSequence: last.sequence, headHash: Hex.encode(head),
                checkpointsChecked: checkpoints.count)
        case .broken(let sequence, let reason):
            return AuditVerifyResponse(
                intact: false, entries: Int(last.sequence), headSequence: last.sequence, headHash: Hex.encode(last.hash),
                checkpointsChecked: checkpoints.count, firstBrokenSequence: sequence, reason: reason.code,
                detail: reason.description)
        }
    }

    /// One self-check: verifies the chain and sets the gauges.
    func run(metrics: CoordinatorMetrics, now: Date) async throws {
        let result = try await verify()
        metrics.auditVerified(intact: result.intact, entries: result.entries, at: now)
    }
}
