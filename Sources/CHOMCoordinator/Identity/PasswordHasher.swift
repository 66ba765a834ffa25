import CHOMCore
import HummingbirdBcrypt
import NIOPosix

/// bcrypt (HummingbirdBcrypt) off the cooperative pool: hashing at cost 12 takes ~0.25 s.
struct PasswordHasher: Sendable {
    static let minimumLength = 12
    static let maximumLength = 200

    let cost: UInt8
    /// Verified against when the account does not exist, so that an unknown user and a wrong
    /// password take the same time and answer alike.
    let decoyHash: String

    init(cost: Int) {
        self.cost = UInt8(clamping: max(4, min(31, cost)))
        decoyHash = Bcrypt.hash("chom-decoy-password-never-valid", cost: self.cost)
    }

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, hash: String?) async throws -> Bool {
        let hash = hash ?? decoyHash
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
        return matches && hash != decoyHash
    }

    static func validateNew(_ password: String) throws {
        guard (minimumLength...maximumLength).contains(password.count) else {
            throw CHOMError(.invalidInput, "a password is \(minimumLength) to \(maximumLength) characters")
        }
    }
}
