import CHOMAudit
import CHOMCore
import Foundation
import Testing

@Suite("Audit entry canonical encoding")
struct AuditCanonicalEncodingTests {
    /// SHA-256(32 zero bytes ‖ canonical encoding of `AuditFixtures.pinned`), computed once and
    /// cross-checked with an independent Python implementation of the documented layout.
    /// If this changes, every stored chain breaks: change the encoding only under a new version tag.
    static let pinnedHash = "693182631d2ddf27ca759968eecd8d8620607b8963c63c167b8f6abe69a28d4c"

    @Test("a fixed entry hashes to a fixed digest after the genesis hash")
    func pinnedDigest() {
        let hash = AuditChain.hash(of: AuditFixtures.pinned, previousHash: AuditChain.genesisHash)
        #expect(hex(hash) == Self.pinnedHash)
        #expect(AuditChain.genesisHash == [UInt8](repeating: 0, count: 32))
    }

    @Test("the encoding is laid out as documented: tag, sequence, length-prefixed strings, presence bytes, sorted details")
    func layout() {
        let entry = AuditEntry(
            sequence: 258, time: Date(unixMilliseconds: 0), actor: "a", organizationID: nil, tenantID: "",
            action: "x", target: "", requestID: "r", sourceAddress: "", details: ["b": "2", "a": "1"])
        var expected = Array("chom-audit-entry-v1".utf8) + [0]
        expected += [0, 0, 0, 0, 0, 0, 1, 2]
        expected += [0, 0, 0, 24] + Array("1970-01-01T00:00:00.000Z".utf8)
        expected += [0, 0, 0, 1] + Array("a".utf8)
        expected += [0]
        expected += [1, 0, 0, 0, 0]
        expected += [0, 0, 0, 1] + Array("x".utf8)
        expected += [0, 0, 0, 0]
        expected += [0, 0, 0, 1] + Array("r".utf8)
        expected += [0, 0, 0, 0]
        expected += [0, 0, 0, 2]
        expected += [0, 0, 0, 1, UInt8(ascii: "a"), 0, 0, 0, 1, UInt8(ascii: "1")]
        expected += [0, 0, 0, 1, UInt8(ascii: "b"), 0, 0, 0, 1, UInt8(ascii: "2")]
        #expect(Array(AuditChain.canonicalEncoding(entry)) == expected)
    }

    /// One change of one field each; every one must change the hash.
    enum Change: String, CaseIterable, CustomTestStringConvertible {
        case sequence, timeByOneMillisecond, actor, organizationRemoved, organizationEmptied, tenantAdded,
            tenantEmptyAdded, action, target, requestID, sourceAddress, detailValue, detailKey, detailAdded,
            detailRemoved, emptyDetailAdded, bytesShiftedBetweenFields, unicodeNormalization

        var testDescription: String { rawValue }

        func apply(_ entry: inout AuditEntry) {
            switch self {
            case .sequence: entry.sequence += 1
            case .timeByOneMillisecond: entry.time = entry.time.addingTimeInterval(0.001)
            case .actor: entry.actor += "x"
            case .organizationRemoved: entry.organizationID = nil
            case .organizationEmptied: entry.organizationID = ""
            case .tenantAdded: entry.tenantID = "tenant-1"
            case .tenantEmptyAdded: entry.tenantID = ""
            case .action: entry.action = "site.delete"
            case .target: entry.target = "site:5b1f"
            case .requestID: entry.requestID = ""
            case .sourceAddress: entry.sourceAddress = "192.0.2.11"
            case .detailValue: entry.details["php"] = "8.4"
            case .detailKey:
                let value = entry.details.removeValue(forKey: "php")
                entry.details["PHP"] = value
            case .detailAdded: entry.details["extra"] = "1"
            case .detailRemoved: entry.details.removeValue(forKey: "name")
            case .emptyDetailAdded: entry.details[""] = ""
            case .bytesShiftedBetweenFields:
                // "site.create" + "site:5b1e" → "site.creates" + "ite:5b1e": same concatenation.
                entry.action = "site.creates"
                entry.target = "ite:5b1e"
            case .unicodeNormalization:
                // "région" spelled with a combining accent: equal as Swift strings, not as bytes.
                entry.details["région"] = nil
                entry.details["re\u{301}gion"] = "eu-west"
            }
        }
    }

    @Test("changing any single field changes the hash", arguments: Change.allCases)
    func everyFieldCounts(change: Change) {
        let original = AuditFixtures.pinned
        var changed = original
        change.apply(&changed)
        #expect(AuditChain.canonicalEncoding(changed) != AuditChain.canonicalEncoding(original))
        #expect(
            AuditChain.hash(of: changed, previousHash: AuditChain.genesisHash)
                != AuditChain.hash(of: original, previousHash: AuditChain.genesisHash))
    }

    @Test("the previous hash is part of the hash")
    func previousHashCounts() {
        let other = [UInt8](repeating: 1, count: 32)
        #expect(
            AuditChain.hash(of: AuditFixtures.pinned, previousHash: other)
                != AuditChain.hash(of: AuditFixtures.pinned, previousHash: AuditChain.genesisHash))
    }

    @Test("the order in which details were inserted does not matter", arguments: 0..<20)
    func detailsOrder(seed: Int) {
        var generator = SplitMix(seed: UInt64(seed))
        let pairs = (0..<12).map { ("key-\($0)", "value-\($0)") }
        var shuffled: [String: String] = [:]
        for (key, value) in pairs.shuffled(using: &generator) { shuffled[key] = value }
        var sorted: [String: String] = [:]
        for (key, value) in pairs { sorted[key] = value }
        var a = AuditFixtures.pinned
        a.details = shuffled
        var b = AuditFixtures.pinned
        b.details = sorted
        #expect(AuditChain.canonicalEncoding(a) == AuditChain.canonicalEncoding(b))
        // And the pairs really are written in sorted key order.
        var tail: [UInt8] = [0, 0, 0, 12]
        for (key, value) in pairs.sorted(by: { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }) {
            tail += [0, 0, 0, UInt8(key.utf8.count)] + Array(key.utf8) + [0, 0, 0, UInt8(value.utf8.count)] + Array(value.utf8)
        }
        #expect(Array(AuditChain.canonicalEncoding(a)).suffix(tail.count) == tail[...])
    }

    @Test("an entry keeps its time to the millisecond, which is what is hashed")
    func millisecondPrecision() {
        let entry = AuditEntry(time: Date(timeIntervalSince1970: 1_800_000_000.123_4), actor: "a", action: "b", target: "c")
        #expect(entry.time == Date(unixMilliseconds: 1_800_000_000_123))
        var sameMillisecond = entry
        sameMillisecond.time = Date(timeIntervalSince1970: 1_800_000_000.123_2)
        #expect(AuditChain.canonicalEncoding(sameMillisecond) == AuditChain.canonicalEncoding(entry))
    }

    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

/// A seeded generator, so that shuffles are the same on every run.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
