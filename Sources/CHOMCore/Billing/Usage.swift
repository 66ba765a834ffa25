package import Foundation

/// Usage metering's pure rules (the issue "Billing"): which hour a sample counts in, what makes two
/// samples the same, and how a gauge held over an interval becomes byte-hours.
package enum UsageMetering {
    /// The start of the UTC hour `date` falls in: the bucket a sample observed at `date` counts
    /// in, however late it arrives.
    package static func hour(of date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 3_600).rounded(.down) * 3_600)
    }

    /// What makes a sample unique: the agent that measured it and the agent's sequence number for
    /// it. A sample sent again (a reconnect, a replay, another coordinator replica) has the same key
    /// and is counted once.
    package struct DedupeKey: Sendable, Hashable {
        package var agent: UUID
        package var sequence: Int64

        package init(agent: UUID, sequence: Int64) {
            self.agent = agent
            self.sequence = sequence
        }
    }

    /// One hour's share of a gauge held over an interval.
    package struct HourShare: Sendable, Equatable {
        package var hour: Date
        package var quantity: Int64

        package init(hour: Date, quantity: Int64) {
            self.hour = hour
            self.quantity = quantity
        }
    }

    /// The byte-hours of `bytes` held from `from` to `to`, split at UTC hour boundaries. Whole
    /// seconds; the total is `bytes × seconds / 3600` rounded half away from zero, and each hour
    /// gets the rounded running total minus what the hours before it got, so the shares always add
    /// up to the rounded total (no drift from rounding each hour on its own). An empty or reversed
    /// interval, or a negative gauge, gives nothing.
    package static func byteHours(_ bytes: Int64, from: Date, to: Date) -> [HourShare] {
        guard bytes > 0 else { return [] }
        let start = Int64(from.timeIntervalSince1970.rounded(.down))
        let end = Int64(to.timeIntervalSince1970.rounded(.down))
        guard end > start else { return [] }
        var shares: [HourShare] = []
        var given: Int64 = 0
        var cursor = start
        while cursor < end {
            let hourStart = cursor - cursor % 3_600 - (cursor % 3_600 < 0 ? 3_600 : 0)
            let pieceEnd = min(end, hourStart + 3_600)
            // Seconds from the interval's start through this piece, and the byte-hours they hold.
            let total = InvoiceCalculator.scaled(bytes, by: pieceEnd - start, per: 3_600)
            if total - given > 0 {
                shares.append(HourShare(hour: Date(timeIntervalSince1970: TimeInterval(hourStart)), quantity: total - given))
            }
            given = total
            cursor = pieceEnd
        }
        return shares
    }
}
