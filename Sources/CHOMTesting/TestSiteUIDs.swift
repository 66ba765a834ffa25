import Synchronization

/// Site user ids for agents that share this process's machine: each agent a slice of its own.
///
/// A test agent's `site-uids.next` starts empty, so without this two agents in one test run (one
/// kernel, one process table) could hand out the same id: the first removes its site user while a
/// process of it is still exiting, the second creates a user with that id, and then "a process of
/// the site user survived" in the second is the first's. Slices are 100,000 ids wide, from
/// 1,000,000,000 to 1,499,999,999: below the production range (`SiteUIDs.defaultRange`), the
/// namespace harness's and `SiteUIDsTests`'s.
package enum TestSiteUIDs {
    private static let next = Atomic<UInt32>(0)

    package static func nextRange() -> ClosedRange<UInt32> {
        let slice = next.add(1, ordering: .relaxed).oldValue % 5_000
        let lower = 1_000_000_000 + slice * 100_000
        return lower...(lower + 99_999)
    }
}
