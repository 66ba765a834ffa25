import CHOMCoordinator
import CHOMCore
import Crypto
import Foundation
import Testing

@Suite("Site log follow cursor")
struct SiteLogCursorTests {
    static func ring(_ keys: [(String, UInt8)], active: String) throws -> KeyRing {
        try KeyRing(keys: keys.map { ($0.0, SymmetricKey(data: Data(repeating: $0.1, count: 32))) }, active: active)
    }

    static let cursor = SiteLogCursor(
        site: SiteID(), kind: "access", actor: "user:\(UUID().uuidString.lowercased())", agent: AgentID(),
        position: SiteLogPosition(device: 2049, inode: 77, offset: 12_345))

    @Test("sealed then opened gives the same cursor, under any key still in the ring")
    func roundTrip() throws {
        let ring = try Self.ring([("a", 1)], active: "a")
        let text = Self.cursor.sealed(with: ring)
        #expect(text.hasPrefix("v1.a.") && text.utf8.count <= SiteLogCursor.maximumLength)
        #expect(SiteLogCursor.open(text, with: ring) == Self.cursor)
        // After a rotation that keeps the old key, a cursor from before still opens.
        let rotated = try Self.ring([("a", 1), ("b", 2)], active: "b")
        #expect(SiteLogCursor.open(text, with: rotated) == Self.cursor)
        #expect(Self.cursor.sealed(with: rotated).hasPrefix("v1.b."))
        // A key id with dots (KeyRing allows them) works too.
        let dotted = try Self.ring([("2026.01", 3)], active: "2026.01")
        #expect(SiteLogCursor.open(Self.cursor.sealed(with: dotted), with: dotted) == Self.cursor)
        // Once the old key is retired, it does not.
        #expect(SiteLogCursor.open(text, with: try Self.ring([("b", 2)], active: "b")) == nil)
    }

    @Test("an altered cursor, one under another key or a forged key id, and malformed text do not open")
    func tampering() throws {
        let ring = try Self.ring([("a", 1)], active: "a")
        let text = Self.cursor.sealed(with: ring)
        let parts = text.split(separator: ".").map(String.init)
        // The position moved, re-encoded without a valid tag.
        var later = Self.cursor
        later.position.offset = 0
        let laterParts = later.sealed(with: ring).split(separator: ".").map(String.init)
        #expect(SiteLogCursor.open([parts[0], parts[1], laterParts[2], parts[3]].joined(separator: "."), with: ring) == nil)
        // A cursor sealed by another coordinator's ring that also calls its key "a".
        let stranger = Self.cursor.sealed(with: try Self.ring([("a", 9)], active: "a"))
        #expect(SiteLogCursor.open(stranger, with: ring) == nil)
        var flipped = Array(text.utf8)
        flipped[flipped.count - 3] = flipped[flipped.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(SiteLogCursor.open(String(decoding: flipped, as: UTF8.self), with: ring) == nil)
        for bad in ["", "v1", "v2.\(parts[1]).\(parts[2]).\(parts[3])", "v1.zz.\(parts[2]).\(parts[3])",
            "v1.a.\(parts[2])", text + ".x", "v1.a.!!.\(parts[3])", String(repeating: "v", count: 600)]
        {
            #expect(SiteLogCursor.open(bad, with: ring) == nil, "\(bad)")
        }
    }

    @Test("a cursor is refused for another site, kind or caller")
    func binding() {
        let cursor = Self.cursor
        #expect(SiteLogFollowPolicy.refusal(cursor, site: cursor.site, kind: "access", actor: cursor.actor) == nil)
        #expect(SiteLogFollowPolicy.refusal(cursor, site: SiteID(), kind: "access", actor: cursor.actor)?.contains("another site") == true)
        #expect(SiteLogFollowPolicy.refusal(cursor, site: cursor.site, kind: "error", actor: cursor.actor)?.contains("access log") == true)
        #expect(SiteLogFollowPolicy.refusal(cursor, site: cursor.site, kind: "access", actor: "user:someone-else")?.contains("another caller") == true)
    }
}
