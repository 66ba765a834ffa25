import CHOMAgent
import CHOMCore
import CHOMTesting
import Foundation
import Glibc
import Testing

@Suite("Site user ids are never handed out twice")
struct SiteUIDsTests {
    static let range: ClosedRange<UInt32> = 2_100_000_000...2_100_000_009
    /// Outside the production range (`SiteUIDs.defaultRange`) and the test agents' slices
    /// (`TestSiteUIDs`): an allocator on the default range skips past the highest id in use in it,
    /// so a user of this test left in it (a run killed half-way) would move every later
    /// default-range allocation onto this test's next ids.
    static let ownRange: ClosedRange<UInt32> = 1_900_000_000...1_900_999_999

    @Test("the next id: the recorded one, never at or below one in use in the range, none past the range")
    func next() {
        #expect(SiteUIDs.next(recorded: nil, inUse: [0, 33, 1000], range: Self.range) == 2_100_000_000)
        #expect(SiteUIDs.next(recorded: 2_100_000_004, inUse: [2_100_000_001], range: Self.range) == 2_100_000_004)
        // The file was lost or rolled back: ids still held by users are skipped.
        #expect(SiteUIDs.next(recorded: 2_100_000_001, inUse: [2_100_000_006], range: Self.range) == 2_100_000_007)
        #expect(SiteUIDs.next(recorded: nil, inUse: [2_100_000_003, 4_000_000_000], range: Self.range) == 2_100_000_004)
        #expect(SiteUIDs.next(recorded: 5, inUse: [], range: Self.range) == 2_100_000_000)
        #expect(SiteUIDs.next(recorded: 2_100_000_010, inUse: [], range: Self.range) == nil)
        #expect(SiteUIDs.next(recorded: nil, inUse: [2_100_000_009], range: Self.range) == nil)
    }

    @Test("a site user removed and another created: the new one gets a new id (user and group), recorded in the state file",
          .enabled(if: LiveSites.isRoot, Comment(rawValue: LiveSites.rootOnly)))
    func neverReused() async throws {
        let state = try TemporaryDirectory.make(prefix: "h-uids")
        defer { TemporaryDirectory.remove(state) }
        var configuration = SiteUsers.Configuration()
        // A range of its own: the hosted tests running beside it take ids from the default one
        // with files of their own, and a user id another took meanwhile moves this user's id, not its group's.
        configuration.uids = SiteUIDs(file: state.appendingPathComponent("site-uids.next"), range: Self.ownRange)
        let users = SiteUsers(configuration: configuration)
        let (first, second) = (SiteUserName(site: SiteID()), SiteUserName(site: SiteID()))
        do {
            try await check(users, first, second, state)
        } catch {
            try? await users.remove(first)
            try? await users.remove(second)
            throw error
        }
    }

    private func check(_ users: SiteUsers, _ first: SiteUserName, _ second: SiteUserName, _ state: URL) async throws {
        let a = try await users.ensure(first, home: state.appendingPathComponent("a").path)
        #expect(Self.ownRange.contains(a.uid) && a.gid == a.uid)
        // Something the first tenant left outside its tree.
        let leftover = state.appendingPathComponent("leftover")
        try Data("tenant A's".utf8).write(to: leftover)
        #expect(chown(leftover.path, a.uid, a.gid) == 0)
        try await users.remove(first)
        #expect(SiteAccount.lookup(first.rawValue) == nil)

        let b = try await users.ensure(second, home: state.appendingPathComponent("b").path)
        #expect(b.uid > a.uid && b.gid == b.uid)
        var st = stat()
        #expect(stat(leftover.path, &st) == 0 && st.st_uid == a.uid && st.st_uid != b.uid, "A's file is not B's")
        let recorded = try String(contentsOf: state.appendingPathComponent("site-uids.next"), encoding: .utf8)
        #expect(UInt32(recorded.trimmingCharacters(in: .whitespacesAndNewlines)) == b.uid + 1)
        // Idempotent: ensuring an existing user changes nothing.
        #expect(try await users.ensure(second, home: state.appendingPathComponent("b").path) == b)
        try await users.remove(second)
    }
}
