package import CHOMCore
package import Foundation

/// Billing's meters on the agent, as a value (the I/O is `UsageMeter`'s): each tick adds what
/// the sites used since the last one to their UTC hours, and every hour that has ended becomes
/// samples with fresh sequences, kept until the coordinator acknowledges them.
///
/// - site-hours: 1 for each hour a site was hosted at some tick (a gap between ticks longer than
///   `maxGap` is downtime: the hours it spans are not counted);
/// - storage byte-hours: the last measured size of the site's tree, held for each second between
///   ticks, split at hour boundaries (a site never measured yet counts nothing);
/// - bandwidth bytes: response body bytes read from the site's access log, in the hour of the tick
///   that read them.
///
/// Sites are keyed by domain; an hour's samples name the coordinator's site id, and a site the
/// agent has no id for (made before inventories) is not metered.
package struct UsageAccumulator: Sendable, Codable, Equatable {
    package struct Sample: Sendable, Codable, Equatable {
        package var sequence: UInt64
        package var siteID: String
        package var meter: Meter
        package var hour: Date
        package var quantity: UInt64

        package init(sequence: UInt64, siteID: String, meter: Meter, hour: Date, quantity: UInt64) {
            self.sequence = sequence
            self.siteID = siteID
            self.meter = meter
            self.hour = hour
            self.quantity = quantity
        }
    }

    struct Hour: Sendable, Codable, Equatable {
        var present: Set<String> = []
        /// Bytes × seconds, per domain.
        var byteSeconds: [String: Double] = [:]
        var bandwidth: [String: UInt64] = [:]
    }

    /// One site as a tick sees it.
    package struct Site: Sendable, Equatable {
        package var siteID: String?
        package var diskBytes: UInt64?
        package init(siteID: String?, diskBytes: UInt64?) {
            self.siteID = siteID
            self.diskBytes = diskBytes
        }
    }

    /// The last sequence given to a sample (0: none yet).
    package private(set) var lastSequence: UInt64 = 0
    package private(set) var lastTick: Date?
    private(set) var hours: [Date: Hour] = [:]
    /// Samples not yet acknowledged, oldest first.
    package private(set) var pending: [Sample] = []
    /// Site ids by domain, as last seen (an hour's samples are made when it ends, maybe after the
    /// site was removed).
    private var ids: [String: String] = [:]

    /// At most this many unacknowledged samples are kept; the oldest are dropped beyond it (a
    /// coordinator unreachable for weeks), so memory and the state file stay bounded.
    package static let maxPending = 200_000

    package init(lastSequence: UInt64 = 0) {
        self.lastSequence = lastSequence
    }

    /// Adds the time since the last tick and `bandwidth` (bytes read since the last tick, by
    /// domain), then turns every hour before `now`'s into samples. Returns the new samples.
    /// A clock that went backwards adds no time, and neither does a gap longer than `maxGap`
    /// (the agent was stopped, or the clock jumped): downtime is not billed.
    @discardableResult
    package mutating func tick(
        now: Date, sites: [String: Site], bandwidth: [String: UInt64], maxGap: TimeInterval = 300
    ) -> [Sample] {
        let current = UsageMetering.hour(of: now)
        for (domain, site) in sites {
            if let id = site.siteID { ids[domain] = id }
        }
        let from = lastTick.map { now.timeIntervalSince($0) > maxGap ? now : min($0, now) } ?? now
        // Presence in every hour the interval touches, and storage held over it.
        var hour = UsageMetering.hour(of: from)
        while hour <= current {
            let start = max(from, hour), end = min(now, hour.addingTimeInterval(3_600))
            for (domain, site) in sites {
                hours[hour, default: Hour()].present.insert(domain)
                if let bytes = site.diskBytes, end > start {
                    hours[hour, default: Hour()].byteSeconds[domain, default: 0] += Double(bytes) * end.timeIntervalSince(start)
                }
            }
            hour = hour.addingTimeInterval(3_600)
        }
        for (domain, bytes) in bandwidth where bytes > 0 {
            hours[current, default: Hour()].bandwidth[domain, default: 0] &+= bytes
        }
        lastTick = now
        return closeHours(before: current)
    }

    /// Forgets acknowledged samples.
    package mutating func acknowledge(_ sequences: some Sequence<UInt64>) {
        let done = Set(sequences)
        guard !done.isEmpty else { return }
        pending.removeAll { done.contains($0.sequence) }
    }

    private mutating func closeHours(before current: Date) -> [Sample] {
        var made: [Sample] = []
        for hour in hours.keys.sorted() where hour < current {
            guard let usage = hours.removeValue(forKey: hour) else { continue }
            let domains = usage.present.union(usage.bandwidth.keys).sorted()
            for domain in domains {
                guard let id = ids[domain] else { continue }
                var quantities: [(Meter, UInt64)] = []
                if usage.present.contains(domain) { quantities.append((.siteHours, 1)) }
                if let byteSeconds = usage.byteSeconds[domain] {
                    let byteHours = (byteSeconds / 3_600).rounded()
                    if byteHours >= 1 { quantities.append((.storageByteHours, UInt64(min(byteHours, Double(UInt64.max / 2))))) }
                }
                if let bytes = usage.bandwidth[domain], bytes > 0 { quantities.append((.bandwidthBytes, bytes)) }
                for (meter, quantity) in quantities {
                    lastSequence += 1
                    made.append(Sample(sequence: lastSequence, siteID: id, meter: meter, hour: hour, quantity: quantity))
                }
            }
        }
        pending += made
        if pending.count > Self.maxPending { pending.removeFirst(pending.count - Self.maxPending) }
        // Ids of sites no longer seen and with no open hour are forgotten.
        let open = hours.values.reduce(into: Set<String>()) { $0.formUnion($1.present.union($1.bandwidth.keys)) }
        ids = ids.filter { open.contains($0.key) }
        return made
    }
}
