import CHOMAudit
import Foundation
import Testing

@Suite("Audit hash chain")
struct AuditChainTests {
    let chain = AuditFixtures.chain(100)

    @Test("an intact chain of 100 entries verifies, naming its length and head hash")
    func intact() throws {
        #expect(chain.map(\.sequence) == Array(1...100))
        #expect(chain[0].previousHash == AuditChain.genesisHash)
        for index in 1..<chain.count { #expect(chain[index].previousHash == chain[index - 1].hash) }
        #expect(AuditChain.verify(entries: chain) == .intact(count: 100, headHash: chain[99].hash))
        let checkpoint = try AuditFixtures.checkpoint(chain, at: 100)
        #expect(
            AuditChain.verify(entries: chain, checkpoint: checkpoint, publicKeys: AuditFixtures.trusted)
                == .intact(count: 100, headHash: chain[99].hash))
    }

    @Test("an empty chain is intact at the genesis hash")
    func empty() {
        #expect(AuditChain.verify(entries: []) == .intact(count: 0, headHash: AuditChain.genesisHash))
    }

    @Test("append numbers the entry after the head and links it to the head's hash")
    func append() {
        let head = AuditChain.Head(sequence: chain[41].sequence, hash: chain[41].hash)
        var next = AuditFixtures.entry(43)
        next.sequence = 999
        let stored = AuditChain.append(next, after: head)
        #expect(stored == chain[42])
    }

    enum Alteration: String, CaseIterable, CustomTestStringConvertible {
        case details, actor, time, tenant, action, sequenceOfContent
        var testDescription: String { rawValue }

        func apply(_ entry: inout AuditEntry) {
            switch self {
            case .details: entry.details["result"] = "denied"
            case .actor: entry.actor = "user:attacker"
            case .time: entry.time = entry.time.addingTimeInterval(-3600)
            case .tenant: entry.tenantID = entry.tenantID == nil ? "tenant-9" : nil
            case .action: entry.action = "auth.login.failed"
            case .sequenceOfContent: entry.target = "site:0"
            }
        }
    }

    @Test("an altered entry breaks the chain at that entry with a hash mismatch", arguments: Alteration.allCases)
    func altered(alteration: Alteration) {
        var entries = chain
        alteration.apply(&entries[36].entry)
        let result = AuditChain.verify(entries: entries)
        #expect(result == .broken(firstBadSequence: 37, reason: .hashMismatch))
        #expect(result.description.contains("hash mismatch"))
    }

    @Test("a deleted middle entry is a sequence gap at the missing sequence")
    func deleted() {
        var entries = chain
        entries.remove(at: 49)
        #expect(AuditChain.verify(entries: entries) == .broken(firstBadSequence: 50, reason: .sequenceGap(expected: 50, found: 51)))
    }

    @Test("a deleted first entry is a sequence gap at 1")
    func deletedFirst() {
        #expect(
            AuditChain.verify(entries: chain.dropFirst()) == .broken(firstBadSequence: 1, reason: .sequenceGap(expected: 1, found: 2)))
    }

    @Test(
        "swapped entries are out of order, adjacent or not",
        arguments: [(29, 30), (19, 59), (0, 99)])
    func swapped(first: Int, second: Int) {
        var entries = chain
        entries.swapAt(first, second)
        let expected = Int64(first + 1)
        #expect(
            AuditChain.verify(entries: entries)
                == .broken(firstBadSequence: expected, reason: .sequenceOutOfOrder(expected: expected, found: Int64(second + 1))))
    }

    @Test("a repeated entry is out of order")
    func duplicated() {
        var entries = chain
        entries.insert(entries[10], at: 11)
        #expect(
            AuditChain.verify(entries: entries)
                == .broken(firstBadSequence: 12, reason: .sequenceOutOfOrder(expected: 12, found: 11)))
    }

    @Test("an entry rewritten with its own hash recomputed breaks the link from the next entry")
    func rehashedOne() {
        var entries = chain
        entries[9].entry.actor = "user:attacker"
        entries[9].hash = AuditChain.hash(of: entries[9].entry, previousHash: entries[9].previousHash)
        #expect(AuditChain.verify(entries: entries) == .broken(firstBadSequence: 11, reason: .chainLinkMismatch))
    }

    @Test("a first entry that does not start from the genesis hash breaks the link")
    func badGenesis() {
        var entries = chain
        entries[0].previousHash = [UInt8](repeating: 1, count: 32)
        entries[0].hash = AuditChain.hash(of: entries[0].entry, previousHash: entries[0].previousHash)
        #expect(AuditChain.verify(entries: entries) == .broken(firstBadSequence: 1, reason: .chainLinkMismatch))
    }

    @Test("a truncated tail goes unnoticed without a checkpoint and is detected with one")
    func truncated() throws {
        let checkpoint = try AuditFixtures.checkpoint(chain, at: 100)
        let truncated = Array(chain.prefix(80))
        #expect(AuditChain.verify(entries: truncated) == .intact(count: 80, headHash: chain[79].hash))
        let result = AuditChain.verify(entries: truncated, checkpoint: checkpoint, publicKeys: AuditFixtures.trusted)
        #expect(result == .broken(firstBadSequence: 81, reason: .truncated(checkpointSequence: 100, lastSequence: 80)))
        #expect(result.description.contains("truncated"))
        // A tail cut just one entry short is caught too; a chain longer than the checkpoint is fine.
        #expect(
            AuditChain.verify(entries: chain.prefix(99), checkpoint: checkpoint, publicKeys: AuditFixtures.trusted)
                == .broken(firstBadSequence: 100, reason: .truncated(checkpointSequence: 100, lastSequence: 99)))
        let earlier = try AuditFixtures.checkpoint(chain, at: 60)
        #expect(AuditChain.verify(entries: chain, checkpoint: earlier, publicKeys: AuditFixtures.trusted).isIntact)
    }

    @Test("a whole chain recomputed after altering entry 10 passes the walk and fails the checkpoint")
    func recomputed() throws {
        let checkpoint = try AuditFixtures.checkpoint(chain, at: 100)
        let forged = AuditFixtures.recomputed(chain, altering: 10) { $0.details = ["result": "never happened"] }
        #expect(AuditChain.verify(entries: forged).isIntact)
        #expect(
            AuditChain.verify(entries: forged, checkpoint: checkpoint, publicKeys: AuditFixtures.trusted)
                == .broken(firstBadSequence: 100, reason: .checkpointMismatch(checkpointSequence: 100)))
        // Several checkpoints narrow it down: the first one after the change disagrees.
        let checkpoints = try [5, 50, 100].map { try AuditFixtures.checkpoint(chain, at: $0) }
        #expect(
            AuditChain.verify(entries: forged, checkpoints: checkpoints, publicKeys: AuditFixtures.trusted)
                == .broken(firstBadSequence: 50, reason: .checkpointMismatch(checkpointSequence: 50)))
    }

    @Test("a tail replaced by forged entries up to the checkpoint's length fails the checkpoint")
    func tailReplaced() throws {
        let checkpoint = try AuditFixtures.checkpoint(chain, at: 100)
        var entries = chain.prefix(80).map(\.entry)
        for index in 81...100 {
            var forged = AuditFixtures.entry(index)
            forged.actor = "system"
            entries.append(forged)
        }
        let forged = AuditChain.build(entries)
        #expect(AuditChain.verify(entries: forged).isIntact)
        #expect(
            AuditChain.verify(entries: forged, checkpoint: checkpoint, publicKeys: AuditFixtures.trusted)
                == .broken(firstBadSequence: 100, reason: .checkpointMismatch(checkpointSequence: 100)))
    }

    @Test("a break in the walk before the checkpoint is reported first")
    func earliestFirst() throws {
        let checkpoint = try AuditFixtures.checkpoint(chain, at: 100)
        var entries = Array(chain.prefix(90))
        entries[20].entry.actor = "x"
        #expect(
            AuditChain.verify(entries: entries, checkpoint: checkpoint, publicKeys: AuditFixtures.trusted)
                == .broken(firstBadSequence: 21, reason: .hashMismatch))
    }

    @Test("verifying page by page gives the same answer as verifying the whole list", arguments: [1, 7, 33, 100])
    func streaming(pageSize: Int) throws {
        let checkpoint = try AuditFixtures.checkpoint(chain, at: 64)
        for entries in [chain, Array(chain.prefix(50)), { var c = chain; c[70].entry.action = "x"; return c }()] {
            var verifier = AuditChainVerifier(checkpoints: [checkpoint], publicKeys: AuditFixtures.trusted)
            var offset = 0
            reading: while offset < entries.count {
                for entry in entries[offset..<min(offset + pageSize, entries.count)] {
                    guard verifier.feed(entry) else { break reading }
                }
                offset += pageSize
            }
            #expect(
                verifier.finish()
                    == AuditChain.verify(entries: entries, checkpoint: checkpoint, publicKeys: AuditFixtures.trusted))
        }
    }
}
