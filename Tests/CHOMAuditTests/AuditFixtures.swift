import CHOMAudit
import Crypto
import Foundation

/// Audit entries, chains and keys for the audit tests. Keys are fixed so digests can be pinned.
enum AuditFixtures {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// The coordinator's checkpoint key and an attacker's.
    static let signingKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32))
    static let attackerKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 9, count: 32))
    static var trusted: [Curve25519.Signing.PublicKey] { [signingKey.publicKey] }

    /// The entry pinned by the canonical-encoding test. Do not change: its digest is pinned.
    static let pinned = AuditEntry(
        sequence: 1, time: Date(timeIntervalSince1970: 1_800_000_000.123), actor: "user:7d0f4c2e",
        organizationID: "org-1", tenantID: nil, action: "site.create", target: "site:5b1e", requestID: "req-42",
        sourceAddress: "192.0.2.10", details: ["name": "shop.example", "php": "8.3", "région": "eu-west"])

    /// Entry `index` (1-based) of a varied, realistic log.
    static func entry(_ index: Int) -> AuditEntry {
        let actions = ["auth.login.succeeded", "site.create", "token.rotate", "member.role.change", "task.outcome"]
        return AuditEntry(
            time: start.addingTimeInterval(Double(index) * 1.25), actor: index % 7 == 0 ? "system" : "user:\(index % 5)",
            organizationID: index % 3 == 0 ? nil : "org-\(index % 2)", tenantID: index % 4 == 0 ? nil : "tenant-\(index % 3)",
            action: actions[index % actions.count], target: "site:\(index)", requestID: index % 5 == 4 ? "" : "req-\(index)",
            sourceAddress: "198.51.100.\(index % 250)", details: index % 2 == 0 ? [:] : ["attempt": "\(index)", "result": "ok"])
    }

    /// A linked chain of `count` entries, sequences 1…count.
    static func chain(_ count: Int) -> [StoredAuditEntry] {
        AuditChain.build((1...count).map(entry))
    }

    /// A checkpoint over entry `sequence` of `chain`, signed by the trusted key.
    static func checkpoint(_ chain: [StoredAuditEntry], at sequence: Int64) throws -> AuditCheckpoint {
        let head = chain[Int(sequence) - 1]
        return try AuditCheckpoint.sign(
            sequence: head.sequence, headHash: head.hash, time: head.entry.time.addingTimeInterval(1), key: signingKey)
    }

    /// `chain` with entry `sequence` replaced by `change(entry)` and every hash recomputed,
    /// as an attacker with write access to the table would do.
    static func recomputed(_ chain: [StoredAuditEntry], altering sequence: Int64, _ change: (inout AuditEntry) -> Void)
        -> [StoredAuditEntry]
    {
        var entries = chain.map(\.entry)
        change(&entries[Int(sequence) - 1])
        return AuditChain.build(entries)
    }
}
