import CHOMCore
import Foundation

/// The coordinator's identity machinery, built once from the configuration.
struct IdentityServices: Sendable {
    let hasher: PasswordHasher
    let gate: LoginGate
    let tokenPolicy: TokenPolicy
    let secretBox: SecretBox
    let invitationTTL: TimeInterval

    init(configuration: CoordinatorConfiguration, keyRing: KeyRing) {
        let auth = configuration.auth
        hasher = PasswordHasher(cost: auth.bcryptCost)
        gate = LoginGate(LoginThrottle(
            accountLimit: .init(attempts: max(1, auth.loginAttemptsPerAccount), window: auth.loginWindowSeconds),
            addressLimit: .init(attempts: max(1, auth.loginAttemptsPerAddress), window: auth.loginWindowSeconds)))
        tokenPolicy = TokenPolicy(lifetime: TokenLifetime(session: auth.sessionTTLSeconds, rotationGrace: auth.rotationGraceSeconds))
        secretBox = SecretBox(keyRing: keyRing)
        invitationTTL = auth.invitationTTLSeconds
    }

    /// The sealing context of a user's TOTP secret: a ciphertext cannot be moved to another user.
    static func totpContext(_ user: UserID) -> String { "totp:\(user)" }
}
