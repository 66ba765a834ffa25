import CHOMAPI
import Foundation
import Testing

@Suite("The chom login credentials file")
struct CredentialsFileTests {
    static let session = StoredSession(
        coordinator: "https://chom.example.com", email: "alice@acme.test", token: "chom_secret_session_token",
        tokenId: "3f2a9c1e-0000-4000-8000-000000000001", createdAt: Date(timeIntervalSince1970: 1_800_000_000),
        expiresAt: Date(timeIntervalSince1970: 1_800_043_200))

    @Test("a saved session loads back equal, with no warning")
    func roundTrip() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try CredentialsFile.save(Self.session, to: scratch.credentialsFile)
        let loaded = CredentialsFile.load(scratch.credentialsFile)
        #expect(loaded == CredentialsFile.Loaded(session: Self.session))
    }

    @Test("the file is mode 0600 and its directory 0700")
    func modes() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try CredentialsFile.save(Self.session, to: scratch.credentialsFile)
        #expect(try scratch.mode(of: scratch.credentialsFile) == 0o600)
        #expect(try scratch.mode(of: scratch.credentialsFile.deletingLastPathComponent()) == 0o700)
    }

    @Test("an existing directory others can read is tightened to 0700")
    func tightensDirectory() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let directory = scratch.credentialsFile.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try scratch.setMode(0o755, of: directory)
        try CredentialsFile.save(Self.session, to: scratch.credentialsFile)
        #expect(try scratch.mode(of: directory) == 0o700)
    }

    @Test("saving replaces the old file in one step and leaves no temporary file behind")
    func atomicReplace() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try CredentialsFile.save(Self.session, to: scratch.credentialsFile)
        var rotated = Self.session
        rotated.token = "chom_rotated"
        rotated.tokenId = "3f2a9c1e-0000-4000-8000-000000000002"
        try CredentialsFile.save(rotated, to: scratch.credentialsFile)
        #expect(CredentialsFile.load(scratch.credentialsFile).session == rotated)
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.credentialsFile.deletingLastPathComponent().path)
        #expect(names == ["credentials.json"])
        #expect(try scratch.mode(of: scratch.credentialsFile) == 0o600)
    }

    @Test("the JSON holds the coordinator, email, token, its id and lifetime")
    func jsonShape() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try CredentialsFile.save(Self.session, to: scratch.credentialsFile)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: scratch.credentialsFile)) as? [String: String]
        #expect(
            object == [
                "coordinator": "https://chom.example.com", "email": "alice@acme.test",
                "token": "chom_secret_session_token", "tokenId": "3f2a9c1e-0000-4000-8000-000000000001",
                "createdAt": "2027-01-15T08:00:00Z", "expiresAt": "2027-01-15T20:00:00Z",
            ])
    }

    @Test("a file other users can read or write is refused with a warning that holds no token", arguments: [0o644, 0o640, 0o604, 0o620])
    func refusesLooseModes(mode: Int) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try CredentialsFile.save(Self.session, to: scratch.credentialsFile)
        try scratch.setMode(mode, of: scratch.credentialsFile)
        let loaded = CredentialsFile.load(scratch.credentialsFile)
        #expect(loaded.session == nil)
        #expect(loaded.warnings.count == 1)
        let warning = try #require(loaded.warnings.first)
        #expect(warning.contains("0" + String(mode, radix: 8)))
        #expect(warning.contains("chmod 600"))
        #expect(!warning.contains(Self.session.token))
    }

    @Test("no file: no session and no warning")
    func missing() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        #expect(CredentialsFile.load(scratch.credentialsFile) == CredentialsFile.Loaded(session: nil))
    }

    @Test("a file that is not a session, or has no token, is refused with a hint to log in", arguments: [
        "not json", #"{"coordinator":"https://c.test"}"#,
        #"{"coordinator":"https://c.test","email":"a@b.test","token":"","tokenId":"t","createdAt":"2027-01-15T08:00:00Z","expiresAt":"2027-01-15T20:00:00Z"}"#,
        #"{"coordinator":"ftp://c.test","email":"a@b.test","token":"chom_x","tokenId":"t","createdAt":"2027-01-15T08:00:00Z","expiresAt":"2027-01-15T20:00:00Z"}"#,
    ])
    func malformed(contents: String) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write(contents, to: scratch.credentialsFile)
        let loaded = CredentialsFile.load(scratch.credentialsFile)
        #expect(loaded.session == nil)
        #expect(loaded.warnings.count == 1)
        #expect(loaded.warnings.first?.contains("chom login") == true)
    }

    @Test("delete removes the file and says whether there was one")
    func delete() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try CredentialsFile.save(Self.session, to: scratch.credentialsFile)
        #expect(try CredentialsFile.delete(scratch.credentialsFile))
        #expect(!FileManager.default.fileExists(atPath: scratch.credentialsFile.path))
        #expect(try !CredentialsFile.delete(scratch.credentialsFile))
    }

    @Test("a path where the directory should be is an error, not a crash")
    func directoryIsAFile() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write("x", to: scratch.credentialsFile.deletingLastPathComponent())
        #expect(throws: CredentialsFileError.self) { try CredentialsFile.save(Self.session, to: scratch.credentialsFile) }
    }

    @Test("the default file is ~/.config/chom/credentials.json under $HOME")
    func defaultFile() {
        #expect(
            CredentialsFile.defaultFile(environment: ["HOME": "/home/op"]).path == "/home/op/.config/chom/credentials.json")
    }

    @Test("printing or dumping a session never shows its token")
    func redaction() {
        var dumped = ""
        dump(Self.session, to: &dumped)
        for text in [String(describing: Self.session), String(reflecting: Self.session), "\(Self.session)", dumped] {
            #expect(!text.contains(Self.session.token))
            #expect(text.contains("<redacted>"))
        }
    }

    @Test("a rotated session keeps the coordinator and email and takes the new token's id and lifetime")
    func replacing() {
        let info = TokenResponse(
            id: "new-id", kind: "session", name: "session", abilities: nil,
            createdAt: Date(timeIntervalSince1970: 1_800_040_000), expiresAt: Date(timeIntervalSince1970: 1_800_083_200),
            lastUsedAt: nil, revokedAt: nil, rotatedAt: nil)
        let rotated = Self.session.replacing(with: IssuedTokenResponse(token: "chom_new", tokenInfo: info))
        #expect(
            rotated
                == StoredSession(
                    coordinator: "https://chom.example.com", email: "alice@acme.test", token: "chom_new", tokenId: "new-id",
                    createdAt: info.createdAt, expiresAt: info.expiresAt))
    }
}
