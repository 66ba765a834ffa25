import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import PostgresNIO
import Testing

/// `chom-coordinator rotate-secrets-key` against a real data directory: every sealed secret moves
/// to the new key, the old key stays readable, and two-factor sign-in keeps working.
@Suite("Secrets at rest: key rotation")
struct SecretsRotationTests {
    static let email = "twofactor@chom.test"
    static let password = "two-factor-password-1"

    func sealedSecrets(_ directory: URL) async throws -> [String] {
        try await TestDatabase.withClient(dataDirectory: directory) { client in
            var sealed: [String] = []
            for try await text in try await client.query("""
                SELECT secret_sealed FROM two_factor
                UNION ALL SELECT value FROM stripe_settings WHERE name IN ('secret_key', 'webhook_secret')
                """).decode(String.self) {
                sealed.append(text)
            }
            return sealed
        }
    }

    @Test("rotate-secrets-key re-encrypts the TOTP secrets under a new key and 2FA sign-in still works")
    func rotation() async throws {
        let directory = try TemporaryDirectory.make(prefix: "chom-rotate")
        defer { try? FileManager.default.removeItem(at: directory) }
        let clock = ManualWallClock(Date())
        var secret: [UInt8] = []
        try await TestCoordinator.with(dataDirectory: directory, clock: clock) { coordinator in
            let organization = try await coordinator.client.createOrganization(name: "Rotation")
            let invitation = try await coordinator.client.createInvitation(
                organizationID: organization.id, email: Self.email, role: "member")
            _ = try await coordinator.client(token: nil).acceptInvitation(token: invitation.token, password: Self.password)
            let login = try await coordinator.client(token: nil).login(email: Self.email, password: Self.password)
            let user = coordinator.client(token: login.token)
            let enrollment = try await user.enrollTwoFactor()
            secret = try #require(Base32.decode(enrollment.secret))
            #expect(enrollment.otpauthUri.contains(enrollment.secret))
            let codes = try await user.confirmTwoFactor(code: TOTP.code(secret: secret, at: clock.now()))
            #expect(codes.recoveryCodes.count == 10)
            let sealed = try await sealedSecrets(directory)
            #expect(sealed.count == 1)
            #expect(sealed.allSatisfy { $0.hasPrefix("chomsec:v1:k1:") && !$0.contains(enrollment.secret) })
        }
        var configuration = CoordinatorConfiguration()
        configuration.dataDirectory = directory.path
        // The Stripe secrets are sealed too (`stripe-configure`), under the first key.
        try await Maintenance.configureStripe(
            configuration, logger: TestLogging.logger("chom.test.rotate"), apiBase: URL(string: "http://127.0.0.1:9"),
            secretKey: "sk_test_rotation_secret", webhookSecret: "whsec_rotation_secret")
        let (keyID, count) = try await Maintenance.rotateSecretsKey(
            configuration, logger: TestLogging.logger("chom.test.rotate"))
        #expect(keyID == "k2")
        #expect(count == 3)
        let keyFile = try String(contentsOf: directory.appendingPathComponent("secrets.keys"), encoding: .utf8)
        #expect(keyFile.split(separator: "\n").map { $0.prefix(3) } == ["k1:", "k2:"])
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("secrets.keys").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        clock.advance(by: 60)
        try await TestCoordinator.with(dataDirectory: directory, clock: clock) { coordinator in
            let sealed = try await sealedSecrets(directory)
            #expect(sealed.count == 3)
            #expect(sealed.allSatisfy { $0.hasPrefix("chomsec:v1:k2:") && !$0.contains("rotation_secret") },
                    "\(sealed.map { $0.prefix(14) })")
            let anonymous = coordinator.client(token: nil)
            let first = try await anonymous.login(email: Self.email, password: Self.password)
            #expect(first.status == .twoFactorRequired)
            let challenge = try #require(first.challenge)
            let second = try await anonymous.loginTwoFactor(challenge: challenge, code: TOTP.code(secret: secret, at: clock.now()))
            #expect(second.status == .authenticated)
            #expect(second.token?.hasPrefix("chom_") == true)
        }
    }
}
