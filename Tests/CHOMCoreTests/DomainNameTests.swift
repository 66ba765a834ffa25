import CHOMCore
import Testing

@Suite("DomainName")
struct DomainNameTests {
    @Test("valid and invalid names", arguments: [("example.com", true), ("a..b", false), ("", false), ("-x.com", false)])
    func validity(name: String, valid: Bool) { #expect(DomainName.isValid(name) == valid) }
}
