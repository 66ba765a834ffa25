@testable import CHOMCoordinator
import CHOMCore
import CHOMProtocol
import CHOMStore
import Foundation
import Testing

@Suite("Usage samples from an agent: what is stored and what is refused for good")
struct UsageIntakeTests {
    static let now = Date(timeIntervalSince1970: 1_794_826_800)  // 2026-11-16 11:00 UTC
    static let site = SiteID()
    static let owners = [site: (TenantID(), OrganizationID())]

    static func sample(
        site: String = site.description, meter: Chom_Agent_V1_UsageMeter = .bandwidthBytes,
        hour: Int64 = 1_794_823_200, quantity: UInt64 = 5, sequence: UInt64 = 9
    ) -> Chom_Agent_V1_UsageSample {
        var sample = Chom_Agent_V1_UsageSample()
        sample.siteID = site
        sample.meter = meter
        sample.hourStart = hour
        sample.quantity = quantity
        sample.sequence = sequence
        return sample
    }

    @Test("a good sample becomes its row, keyed by agent and sequence")
    func stored() throws {
        let agent = AgentID()
        let row = try #require(UsageIntake.row(Self.sample(), agent: agent, owners: Self.owners, now: Self.now))
        #expect(row.key == .init(agent: agent.uuid, sequence: 9) && row.meter == .bandwidthBytes && row.quantity == 5)
        #expect(row.hour == Date(timeIntervalSince1970: 1_794_823_200) && row.site == Self.site)
        let petabyte = UsageIntake.row(
            Self.sample(quantity: 1_000_000_000_000_000), agent: agent, owners: Self.owners, now: Self.now)
        #expect(petabyte?.quantity == 1_000_000_000_000_000)
    }

    @Test(
        "refused: another agent's or an unknown site, no meter, a broken hour, the future, too old, site-hours over 1, sequence 0",
        arguments: [
            sample(site: SiteID().description), sample(site: "not-a-uuid"), sample(meter: .unspecified),
            sample(hour: 1_794_823_201), sample(hour: 1_794_830_400), sample(hour: 1_794_823_200 - 401 * 86_400),
            sample(meter: .siteHours, quantity: 2), sample(sequence: 0), sample(sequence: UInt64(Int64.max) + 1),
            sample(quantity: 1_000_000_000_000_001), sample(quantity: .max),
        ])
    func refused(sample: Chom_Agent_V1_UsageSample) {
        #expect(UsageIntake.row(sample, agent: AgentID(), owners: Self.owners, now: Self.now) == nil)
    }
}
