import CHOMCore
import CHOMProtocol
import CHOMStore
import Foundation
import Logging

/// An agent's usage report, checked and appended (the issue "Billing": usage metering). Every
/// sample is acknowledged once it is stored or refused for good, so the agent stops sending it:
/// a sample for a site the agent does not host, of an unknown meter, or for an hour that is not
/// a whole UTC hour in the past 400 days (or the current one) is refused and counted in the log.
struct UsageIntake: Sendable {
    let store: Store
    let logger: Logger

    /// At most this many samples are taken from one report; the rest stay unacknowledged and come
    /// again with the next.
    static let maxSamples = 20_000
    static let oldest: TimeInterval = 400 * 86_400
    /// 10^15: a site holding a petabyte for the hour, or serving it.
    static let maxBytesPerHour: UInt64 = 1_000_000_000_000_000

    struct Outcome: Sendable, Equatable {
        var acknowledged: [UInt64]
        var stored: Int
        var refused: Int
    }

    func take(_ report: Chom_Agent_V1_UsageReport, from agent: AgentID, now: Date) async throws -> Outcome {
        let samples = report.samples.prefix(Self.maxSamples)
        let owners = try await store.billing.owners(
            of: Array(Set(samples.compactMap { SiteID($0.siteID) })), on: agent)
        var rows: [UsageRow] = []
        var refused = 0
        for sample in samples {
            guard let row = Self.row(sample, agent: agent, owners: owners, now: now) else {
                refused += 1
                continue
            }
            rows.append(row)
        }
        let stored = try await store.billing.append(rows)
        if refused > 0 {
            logger.warning("usage samples refused", metadata: [LogKey.agentID: "\(agent)", "chom.count": "\(refused)"])
        }
        return Outcome(acknowledged: samples.map(\.sequence), stored: stored, refused: refused)
    }

    /// The row a sample becomes, or nil when it is refused.
    static func row(
        _ sample: Chom_Agent_V1_UsageSample, agent: AgentID, owners: [SiteID: (TenantID, OrganizationID)], now: Date
    ) -> UsageRow? {
        guard let site = SiteID(sample.siteID), let (tenant, organization) = owners[site],
            sample.sequence > 0, sample.sequence <= UInt64(Int64.max)
        else { return nil }
        let meter: Meter
        switch sample.meter {
        case .siteHours: meter = .siteHours
        case .storageByteHours: meter = .storageByteHours
        case .bandwidthBytes: meter = .bandwidthBytes
        case .unspecified, .UNRECOGNIZED: return nil
        }
        let hour = Date(timeIntervalSince1970: TimeInterval(sample.hourStart))
        guard sample.hourStart % 3_600 == 0, hour <= now, hour >= now.addingTimeInterval(-oldest) else { return nil }
        // Site-hours are 1 per hour; a byte meter above a petabyte (byte-hours) in one hour is a
        // broken or hostile agent.
        guard meter != .siteHours || sample.quantity <= 1 else { return nil }
        guard sample.quantity <= maxBytesPerHour else { return nil }
        return UsageRow(
            key: .init(agent: agent.uuid, sequence: Int64(sample.sequence)), hour: hour, meter: meter,
            quantity: Int64(min(sample.quantity, UInt64(Int64.max))), site: site, tenant: tenant,
            organization: organization)
    }
}
