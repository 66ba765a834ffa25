import CHOMCore
import Foundation
import Testing

@Suite("Usage metering: hour buckets, dedupe keys, byte-hours split at hour boundaries without drift")
struct UsageMeteringTests {
    static let noon = Date(timeIntervalSince1970: 1_798_804_800)  // 2027-01-01T12:00:00Z

    @Test("a sample counts in the UTC hour it was observed in, however late it arrives")
    func hourBucket() {
        #expect(UsageMetering.hour(of: Self.noon) == Self.noon)
        #expect(UsageMetering.hour(of: Self.noon.addingTimeInterval(3_599.9)) == Self.noon)
        #expect(UsageMetering.hour(of: Self.noon.addingTimeInterval(3_600)) == Self.noon.addingTimeInterval(3_600))
        #expect(UsageMetering.hour(of: Self.noon.addingTimeInterval(-0.1)) == Self.noon.addingTimeInterval(-3_600))
        // Before 1970 too.
        #expect(UsageMetering.hour(of: Date(timeIntervalSince1970: -1)) == Date(timeIntervalSince1970: -3_600))
    }

    @Test("a replayed sample has the same key; another sequence or agent does not")
    func dedupe() {
        let agent = UUID()
        let seen: Set = [UsageMetering.DedupeKey(agent: agent, sequence: 7)]
        #expect(seen.contains(UsageMetering.DedupeKey(agent: agent, sequence: 7)))
        #expect(!seen.contains(UsageMetering.DedupeKey(agent: agent, sequence: 8)))
        #expect(!seen.contains(UsageMetering.DedupeKey(agent: UUID(), sequence: 7)))
    }

    @Test("a gauge held across hours is split at the boundaries, each hour its own share")
    func split() {
        let gb: Int64 = 1_000_000_000
        // 11:30 to 13:15 at 4 GB: half an hour, a whole one, a quarter.
        let shares = UsageMetering.byteHours(
            4 * gb, from: Self.noon.addingTimeInterval(-1_800), to: Self.noon.addingTimeInterval(4_500))
        #expect(shares == [
            .init(hour: Self.noon.addingTimeInterval(-3_600), quantity: 2 * gb),
            .init(hour: Self.noon, quantity: 4 * gb),
            .init(hour: Self.noon.addingTimeInterval(3_600), quantity: 1 * gb),
        ])
    }

    @Test("rounding is of the running total, so the shares add up to the rounded whole")
    func noDrift() {
        // 1 byte for 3 × 20 minutes in three hours: each third alone would round to 0 (0.33).
        let shares = UsageMetering.byteHours(
            1, from: Self.noon.addingTimeInterval(-1_200), to: Self.noon.addingTimeInterval(6_000))
        // 7,200 s → 2 byte-hours in total, split 20 min | 60 min | 40 min.
        #expect(shares.reduce(0) { $0 + $1.quantity } == 2)
        #expect(shares.map(\.hour) == [Self.noon, Self.noon.addingTimeInterval(3_600)])
        // 1 byte from 11:30 to 13:30: hours of 0.5, 1 and 0.5 byte-hours. Rounded alone they would
        // make 1 + 1 + 1 = 3; the running total gives 1 + 1 + 0 = 2, the rounded whole.
        let halves = UsageMetering.byteHours(
            1, from: Self.noon.addingTimeInterval(-1_800), to: Self.noon.addingTimeInterval(5_400))
        #expect(halves == [
            .init(hour: Self.noon.addingTimeInterval(-3_600), quantity: 1), .init(hour: Self.noon, quantity: 1),
        ])
        // Many small samples of one hour add up to the hour's byte-hours.
        let seconds: Int64 = 7
        let total = stride(from: 0, to: 3_600, by: Int(seconds)).reduce(Int64(0)) { sum, offset in
            let from = Self.noon.addingTimeInterval(TimeInterval(offset))
            let to = Self.noon.addingTimeInterval(TimeInterval(min(3_600, offset + Int(seconds))))
            return sum + UsageMetering.byteHours(3_600_000, from: from, to: to).reduce(0) { $0 + $1.quantity }
        }
        #expect(total == 3_600_000)
    }

    @Test("nothing for an empty or reversed interval or a gauge of zero or less")
    func nothing() {
        #expect(UsageMetering.byteHours(5, from: Self.noon, to: Self.noon) == [])
        #expect(UsageMetering.byteHours(5, from: Self.noon, to: Self.noon.addingTimeInterval(-60)) == [])
        #expect(UsageMetering.byteHours(0, from: Self.noon, to: Self.noon.addingTimeInterval(60)) == [])
        #expect(UsageMetering.byteHours(-5, from: Self.noon, to: Self.noon.addingTimeInterval(60)) == [])
    }
}
