package import CHOMCore
package import CHOMProtocol
import CHOMSiteFiles
import CHOMTransport
package import Foundation
import Synchronization

/// Builds the inventory the agent reports after hello and every `inventoryInterval`: each site tree
/// under the sites root (a directory named by a valid domain) with the release `current` points at,
/// joined by domain with what `SiteRecordStore` remembers (id, config version, suspension).
///
/// Every report carries a new sequence, persisted before it is sent (`<state>/inventory.json`,
/// atomic, 0600) so it keeps rising across restarts: the coordinator applies each (agent, sequence)
/// once. The next sequence is also at least the wall clock in milliseconds, so an agent whose
/// file was lost still reports above everything it reported before.
package final class InventoryReporter: Sendable {
    package let sitesRoot: URL
    package let records: SiteRecordStore
    package let sequenceFile: URL
    private let clock: any WallClock
    private let last: Mutex<UInt64>

    private struct Persisted: Codable {
        var sequence: UInt64
    }

    package init(configuration: AgentConfiguration, clock: any WallClock) {
        sitesRoot = configuration.sitesRoot
        records = SiteRecordStore(directory: configuration.siteRecordsDirectory)
        sequenceFile = configuration.stateDirectory.appendingPathComponent("inventory.json")
        self.clock = clock
        let stored = (try? PrivateFile.read(sequenceFile)).flatMap { try? JSONDecoder().decode(Persisted.self, from: $0) }
        last = Mutex(stored?.sequence ?? 0)
    }

    /// The last sequence reported (0: none yet).
    package var lastSequence: UInt64 { last.withLock { $0 } }

    /// The next report, its sequence already persisted.
    package func next() throws -> Chom_Agent_V1_Inventory {
        var inventory = Chom_Agent_V1_Inventory()
        inventory.sites = sites()
        let now = UInt64(max(0, clock.now().unixMilliseconds))
        inventory.sequence = try last.withLock { last in
            let sequence = max(last + 1, now)
            try PrivateFile.write(try JSONEncoder().encode(Persisted(sequence: sequence)), to: sequenceFile)
            last = sequence
            return sequence
        }
        return inventory
    }

    /// The site trees on disk, by domain.
    package func sites() -> [Chom_Agent_V1_SiteInventory] {
        guard let root = try? SiteDirectory.openTrusted(sitesRoot.path), let names = try? root.entries() else { return [] }
        let known = records.byDomain()
        return names.sorted().compactMap { name in
            guard DomainName.isValid(name), (try? root.status(name)) == .directory else { return nil }
            var site = Chom_Agent_V1_SiteInventory()
            site.domain = name
            site.releaseID = SiteLayout(sitesRoot: sitesRoot, domain: name).currentRelease() ?? ""
            if let record = known[name] {
                site.siteID = record.siteID
                site.configVersion = record.reportedVersion
                site.suspended = record.suspended
            }
            return site
        }
    }
}
