import CHOMAgent
import CHOMCore
import Foundation
import Testing

@Suite("Site user names")
struct SiteUserNameTests {
    @Test("the name is chom_ and the first 12 hex digits of the site id", arguments: [
        ("3F2A9C41-B7D0-4E11-9A2B-000000000001", "chom_3f2a9c41b7d0"),
        ("00000000-0000-4000-8000-000000000000", "chom_000000000000"),
        ("FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF", "chom_ffffffffffff"),
    ])
    func derived(uuid: String, expected: String) throws {
        let site = try #require(SiteID(uuid))
        let name = SiteUserName(site: site)
        #expect(name.rawValue == expected)
        #expect(name.description == expected)
        #expect(SiteUserName(site: try #require(SiteID(uuid.lowercased()))) == name)
        #expect(name.belongs(to: site))
        #expect(SiteUserName(rawValue: expected) == name)
    }

    @Test("every derived name is a valid useradd name of at most 32 bytes, and sites rarely share one")
    func derivedNamesAreValid() {
        var names: Set<String> = []
        for _ in 0..<2_000 {
            let name = SiteUserName(site: SiteID()).rawValue
            #expect(SiteUserName.isValidLinuxUserName(name))
            #expect(name.utf8.count == 17 && name.utf8.count <= SiteUserName.maximumLength)
            #expect(SiteUserName(rawValue: name) != nil)
            names.insert(name)
        }
        #expect(names.count == 2_000)
    }

    @Test("another site's id does not own the name")
    func belongsOnlyToItsSite() throws {
        let name = SiteUserName(site: try #require(SiteID("3F2A9C41-B7D0-4E11-9A2B-000000000001")))
        #expect(!name.belongs(to: try #require(SiteID("3F2A9C41-B7D1-4E11-9A2B-000000000001"))))
    }

    @Test("only the derived form is accepted as a site user", arguments: [
        "root", "www-data", "chom_", "chom_3f2a9c41b7d", "chom_3f2a9c41b7d0a", "chom_3F2A9C41B7D0", "chom_3f2a9c41b7dg",
        "chom-3f2a9c41b7d0", "xchom_3f2a9c41b7d0", "chom_3f2a9c41b7d0\n", "chom_3f2a9c41b7d0$", "", "chom_3f2a9c41b7d\u{0}",
        "chom_３f2a9c41b7d0",
    ])
    func refusesOtherNames(raw: String) {
        #expect(SiteUserName(rawValue: raw) == nil)
    }

    @Test("useradd's rule: [a-z_][a-z0-9_-]*, 1–32 bytes", arguments: [
        ("chom_3f2a9c41b7d0", true), ("_svc", true), ("a", true), ("a-b_c9", true),
        (String(repeating: "a", count: 32), true), (String(repeating: "a", count: 33), false),
        ("", false), ("9abc", false), ("-abc", false), ("Abc", false), ("ab c", false), ("ab$", false),
        ("ab.c", false), ("ab\nc", false), ("é", false),
    ])
    func linuxRule(name: String, valid: Bool) {
        #expect(SiteUserName.isValidLinuxUserName(name) == valid)
    }
}
