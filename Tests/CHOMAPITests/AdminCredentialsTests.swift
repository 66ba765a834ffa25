import CHOMAPI
import Foundation
import Testing

@Suite("Which token and coordinator a command uses")
struct AdminCredentialsTests {
    private static let session = StoredSession(
        coordinator: "https://chom.example.com", email: "alice@acme.test", token: "chom_session", tokenId: "sid",
        createdAt: Date(timeIntervalSince1970: 1_800_000_000), expiresAt: Date(timeIntervalSince1970: 1_800_043_200))

    /// A scratch home with a stored session and/or a legacy token file.
    private func home(session: StoredSession? = Self.session, legacy: String? = "chom_legacy\n") throws -> ScratchDirectory {
        let scratch = try ScratchDirectory()
        if let session { try CredentialsFile.save(session, to: scratch.credentialsFile) }
        if let legacy { try scratch.write(legacy, to: scratch.legacyFile) }
        return scratch
    }

    private func resolve(
        _ scratch: ScratchDirectory, token: String? = nil, coordinator: String? = nil, environment: [String: String] = [:]
    ) -> AdminCredentials.Resolution {
        AdminCredentials.resolve(
            tokenFlag: token, coordinatorFlag: coordinator, environment: environment,
            credentialsFile: scratch.credentialsFile, legacyFile: scratch.legacyFile)
    }

    @Test("--token wins over everything; the coordinator is then --coordinator, $CHOM_COORDINATOR or the default")
    func flagFirst() throws {
        let scratch = try home()
        defer { scratch.remove() }
        #expect(
            resolve(scratch, token: "chom_flag", environment: ["CHOM_TOKEN": "chom_env"])
                == AdminCredentials.Resolution(coordinator: "http://127.0.0.1:8080", token: "chom_flag", source: .flag))
        #expect(
            resolve(scratch, token: "chom_flag", environment: ["CHOM_COORDINATOR": "http://env.test"]).coordinator
                == "http://env.test")
    }

    @Test("$CHOM_TOKEN wins over the stored session and the legacy file")
    func environmentSecond() throws {
        let scratch = try home()
        defer { scratch.remove() }
        #expect(
            resolve(scratch, environment: ["CHOM_TOKEN": "chom_env"])
                == AdminCredentials.Resolution(coordinator: "http://127.0.0.1:8080", token: "chom_env", source: .environment))
    }

    @Test("without a flag or $CHOM_TOKEN the stored session wins over the legacy file, with its coordinator")
    func sessionThird() throws {
        let scratch = try home()
        defer { scratch.remove() }
        #expect(
            resolve(scratch, token: "  ", environment: ["CHOM_TOKEN": ""])
                == AdminCredentials.Resolution(
                    coordinator: "https://chom.example.com", token: "chom_session",
                    source: .session(scratch.credentialsFile.path), session: Self.session))
    }

    @Test(
        "the stored session is used when --coordinator names its coordinator, however spelled",
        arguments: ["https://chom.example.com", "https://CHOM.example.com/", "https://chom.example.com:443"])
    func sessionForSameCoordinator(coordinator: String) throws {
        let scratch = try home()
        defer { scratch.remove() }
        let resolution = resolve(scratch, coordinator: coordinator)
        #expect(resolution.token == "chom_session")
        #expect(resolution.coordinator == coordinator)
        #expect(resolution.session == Self.session)
    }

    @Test("a session for another coordinator is left aside: the legacy file is used, and the skip is noted")
    func sessionForOtherCoordinator() throws {
        let scratch = try home()
        defer { scratch.remove() }
        let byFlag = resolve(scratch, coordinator: "http://other.test:8080")
        #expect(
            byFlag
                == AdminCredentials.Resolution(
                    coordinator: "http://other.test:8080", token: "chom_legacy", source: .legacyFile(scratch.legacyFile.path),
                    otherSessionCoordinator: "https://chom.example.com"))
        let byEnvironment = resolve(scratch, environment: ["CHOM_COORDINATOR": "http://chom.example.com"])
        #expect(byEnvironment.token == "chom_legacy")
        #expect(byEnvironment.coordinator == "http://chom.example.com")
    }

    @Test("with no session and no legacy file there is no token, and the coordinator is the default")
    func nothing() throws {
        let scratch = try home(session: nil, legacy: nil)
        defer { scratch.remove() }
        #expect(resolve(scratch) == AdminCredentials.Resolution(coordinator: "http://127.0.0.1:8080", token: nil, source: nil))
    }

    @Test("a session file others can read is not used: a warning, then the legacy file")
    func looseSessionFile() throws {
        let scratch = try home()
        defer { scratch.remove() }
        try scratch.setMode(0o644, of: scratch.credentialsFile)
        let resolution = resolve(scratch)
        #expect(resolution.token == "chom_legacy")
        #expect(resolution.source == .legacyFile(scratch.legacyFile.path))
        #expect(resolution.session == nil)
        #expect(resolution.warnings.count == 1)
        #expect(resolution.warnings.first?.contains(scratch.credentialsFile.path) == true)
        #expect(resolution.warnings.allSatisfy { !$0.contains("chom_session") })
    }

    @Test("the legacy file's permission warning is kept")
    func looseLegacyFile() throws {
        let scratch = try home(session: nil)
        defer { scratch.remove() }
        try scratch.setMode(0o644, of: scratch.legacyFile)
        let resolution = resolve(scratch)
        #expect(resolution.token == "chom_legacy")
        #expect(resolution.warnings.count == 1)
        #expect(resolution.warnings.first?.contains("chmod 600") == true)
    }

    @Test("only --coordinator or $CHOM_COORDINATOR count as naming a coordinator")
    func explicitCoordinator() {
        #expect(AdminCredentials.explicitCoordinator(flag: "http://f.test", environment: ["CHOM_COORDINATOR": "http://e.test"]) == "http://f.test")
        #expect(AdminCredentials.explicitCoordinator(flag: nil, environment: ["CHOM_COORDINATOR": "http://e.test"]) == "http://e.test")
        #expect(AdminCredentials.explicitCoordinator(flag: "", environment: ["CHOM_COORDINATOR": " "]) == nil)
    }

    @Test("coordinator addresses compare by scheme, host, port and path")
    func sameCoordinator() {
        #expect(CoordinatorAddress.same("http://127.0.0.1:8080", "http://127.0.0.1:8080/"))
        #expect(CoordinatorAddress.same("http://Host.test", "http://host.test:80"))
        #expect(CoordinatorAddress.same("https://h.test/admin/", "https://h.test/admin"))
        #expect(!CoordinatorAddress.same("http://h.test", "https://h.test"))
        #expect(!CoordinatorAddress.same("http://h.test:8080", "http://h.test:8081"))
        #expect(!CoordinatorAddress.same("http://h.test/a", "http://h.test/b"))
        #expect(!CoordinatorAddress.same("http://a.test", "http://b.test"))
    }
}
