import CHOMCore
import Testing

@Suite("Site configuration and git source checks (pure)")
struct SiteSpecTests {
    @Test("relative paths: plain parts only", arguments: [
        ("storage", true), ("storage/", true), (".env", true), ("a/b/c", true), ("", false), ("/etc", false),
        ("..", false), ("a/../b", false), ("a//b", false), ("./a", false), ("a/.", false), ("a\u{0}b", false),
        ("a\nb", false),
    ])
    func relativePaths(path: String, valid: Bool) {
        #expect(SiteSettings.isRelativePath(path) == valid)
    }

    @Test("git URLs and refs that cannot be read as options or carry a password", arguments: [
        ("https://git.example.test/a/b.git", "main", true), ("file:///srv/git/b.git", "v1.0", true),
        ("ssh://git@git.example.test:2222/a/b.git", "feature/x", true), ("git@git.example.test:a/b.git", "abc123", true),
        ("http://git.example.test/a.git", "main", false), ("https://u:p@git.example.test/a.git", "main", false),
        ("ssh://u:p@git.example.test/a.git", "main", false), ("-u", "main", false), ("git@host:-x", "main", false),
        ("https://git.example.test/a.git", "-x", false), ("https://git.example.test/a.git", "a..b", false),
        ("https://git.example.test/a.git", "a.lock", false), ("https://git.example.test/a.git", "a b", false),
        ("https://git.example.test/a.git", "/main", false), ("https://git.example.test/a b.git", "main", false),
    ])
    func gitSources(url: String, ref: String, valid: Bool) {
        #expect(((try? GitSource(url: url, ref: ref)) != nil) == valid, "\(url) \(ref)")
    }

    @Test("a stored configuration never claims app fields for another kind, and aliases are lowercased")
    func validation() throws {
        let spec = try SiteSettings(kind: .php, aliases: ["WWW.Example.test"]).validated(domain: "example.test")
        #expect(spec.aliases == ["www.example.test"])
        #expect(throws: CHOMError.self) { try SiteSettings(kind: .php, appPort: 3000).validated(domain: "example.test") }
        #expect(throws: CHOMError.self) {
            try SiteSettings(kind: .static, aliases: ["a.test", "A.test"]).validated(domain: "example.test")
        }
        #expect(throws: CHOMError.self) { try BackupPolicy(everyHours: 24, keepLast: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, encrypt: true) }
    }
}
