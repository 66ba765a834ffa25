import CHOMAPI
import Testing

@Suite("ID prefixes")
struct IDPrefixTests {
    let ids = ["1a2b3c4d-0000-4000-8000-000000000001", "1a2b9999-0000-4000-8000-000000000002"]

    @Test("a unique prefix, in any case, matches its ID")
    func unique() {
        #expect(IDPrefix.match("1A2B3", among: ids) == .one(ids[0]))
    }

    @Test("a shared prefix is ambiguous and an unknown one matches nothing")
    func ambiguousAndNone() {
        #expect(IDPrefix.match("1a2b", among: ids) == .ambiguous(ids))
        #expect(IDPrefix.match("ffff", among: ids) == .none)
    }

    @Test("a full UUID is recognised as such")
    func fullID() {
        #expect(IDPrefix.isFullID(ids[0]))
        #expect(!IDPrefix.isFullID("1a2b3c4d"))
    }
}
