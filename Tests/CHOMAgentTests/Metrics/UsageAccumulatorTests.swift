import CHOMAgent
import CHOMCore
import Foundation
import Testing

@Suite("Billing's meters on the agent: hours, byte-hours, bandwidth, and what is sent until acknowledged")
struct UsageAccumulatorTests {
    /// 2026-11-16 10:00:00 UTC.
    static let ten = Date(timeIntervalSince1970: 1_794_823_200)

    @Test("the body bytes of a combined-format line; none for a line without a status or a plain number")
    func bodyBytes() {
        func bytes(_ line: String) -> UInt64? { AccessLogLine.bodyBytes(ArraySlice(line.utf8)) }
        #expect(bytes(#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "http://x/" "Mozilla""#) == 2326)
        #expect(bytes(#"1.2.3.4 - - [x] "GET /\x22q\x22 HTTP/1.1" 404 9 "-" "ua \"x\"""#) == 9)
        #expect(bytes(#"1.2.3.4 - - [x] "GET / HTTP/1.1" 200 0"#) == 0)
        #expect(bytes(#"1.2.3.4 - - [x] "GET / HTTP/1.1" 503"#) == nil)
        #expect(bytes(#"1.2.3.4 - - [x] "GET / HTTP/1.1" 200 -"#) == nil)
        #expect(bytes(#"1.2.3.4 - - [x] "GET / HTTP/1.1" 200 12a "-""#) == nil)
        #expect(bytes(#"1.2.3.4 - - [x] "GET / HTTP/1.1" 200 99999999999999999999 "-""#) == nil, "20 digits overflow")
        #expect(bytes("garbage") == nil)
    }

    @Test("an hour that ends becomes site-hours, byte-hours split at the boundary, and the bandwidth read in it")
    func hourCloses() {
        // Ticks 45 minutes apart here (the agent ticks every minute; `maxGap` lets them count).
        var usage = UsageAccumulator(lastSequence: 100)
        let site = UsageAccumulator.Site(siteID: "s-1", diskBytes: 7_200)
        #expect(usage.tick(now: Self.ten.addingTimeInterval(1_800), sites: ["a.test": site], bandwidth: [:], maxGap: 7_200).isEmpty)
        // 10:30 → 11:15: 30 minutes of 7,200 bytes in 10:00 (3,600 byte-hours) and 15 in 11:00.
        let made = usage.tick(
            now: Self.ten.addingTimeInterval(4_500), sites: ["a.test": site], bandwidth: ["a.test": 5_000], maxGap: 7_200)
        #expect(made == [
            .init(sequence: 101, siteID: "s-1", meter: .siteHours, hour: Self.ten, quantity: 1),
            .init(sequence: 102, siteID: "s-1", meter: .storageByteHours, hour: Self.ten, quantity: 3_600),
        ])
        // The bandwidth was read in the 11:00 hour; it closes at 12:00 with 15 + 45 minutes of storage.
        let next = usage.tick(now: Self.ten.addingTimeInterval(7_300), sites: ["a.test": site], bandwidth: [:], maxGap: 7_200)
        let eleven = Self.ten.addingTimeInterval(3_600)
        #expect(next == [
            .init(sequence: 103, siteID: "s-1", meter: .siteHours, hour: eleven, quantity: 1),
            .init(sequence: 104, siteID: "s-1", meter: .storageByteHours, hour: eleven, quantity: 7_200),
            .init(sequence: 105, siteID: "s-1", meter: .bandwidthBytes, hour: eleven, quantity: 5_000),
        ])
        #expect(usage.pending.map(\.sequence) == [101, 102, 103, 104, 105])
        usage.acknowledge([101, 103, 999])
        #expect(usage.pending.map(\.sequence) == [102, 104, 105])
    }

    @Test("a site without an id is not metered; one never measured counts hours only; a clock going back or a long gap adds nothing")
    func edges() {
        var usage = UsageAccumulator()
        let sites = [
            "old.test": UsageAccumulator.Site(siteID: nil, diskBytes: 1_000),
            "new.test": UsageAccumulator.Site(siteID: "s-2", diskBytes: nil),
        ]
        usage.tick(now: Self.ten.addingTimeInterval(60), sites: sites, bandwidth: ["old.test": 10])
        // Back in time: no negative time, and nothing closes.
        #expect(usage.tick(now: Self.ten.addingTimeInterval(30), sites: sites, bandwidth: [:]).isEmpty)
        let made = usage.tick(now: Self.ten.addingTimeInterval(3_700), sites: sites, bandwidth: [:])
        #expect(made.map(\.siteID) == ["s-2"] && made.map(\.meter) == [.siteHours])
        // Hours after a gap longer than the tick's limit (the agent was stopped): downtime is not
        // billed; only the hour seen before the gap closes.
        let later = usage.tick(now: Self.ten.addingTimeInterval(4 * 3_600 + 10), sites: sites, bandwidth: [:])
        #expect(later.map(\.hour) == [Self.ten.addingTimeInterval(3_600)])
        // Ticks a minute apart across an hour boundary count both hours.
        usage.tick(now: Self.ten.addingTimeInterval(5 * 3_600 - 30), sites: sites, bandwidth: [:])
        let next = usage.tick(now: Self.ten.addingTimeInterval(5 * 3_600 + 30), sites: sites, bandwidth: [:])
        #expect(next.map(\.hour) == [Self.ten.addingTimeInterval(4 * 3_600)])
    }

    @Test("the state survives a restart: sequences keep rising and pending samples are still there")
    func persisted() throws {
        var usage = UsageAccumulator(lastSequence: 5)
        usage.tick(now: Self.ten, sites: ["a.test": .init(siteID: "s", diskBytes: 1)], bandwidth: [:], maxGap: 7_200)
        usage.tick(now: Self.ten.addingTimeInterval(3_600), sites: ["a.test": .init(siteID: "s", diskBytes: 1)], bandwidth: [:], maxGap: 7_200)
        let restored = try JSONDecoder().decode(UsageAccumulator.self, from: try JSONEncoder().encode(usage))
        #expect(restored == usage && restored.lastSequence == 7 && restored.pending.count == 2)
    }
}
