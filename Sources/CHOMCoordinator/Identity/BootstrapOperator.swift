import CHOMAudit
import CHOMCore
import CHOMStore
import Crypto
import Foundation

/// The first platform operator: created by `chom-coordinator bootstrap-operator`, or on the
/// first start of an empty database. Its one-time password is printed once, never logged.
enum BootstrapOperator {
    struct Created: Sendable {
        let email: String
        let password: String
        let generated: Bool
    }

    /// A 24-character password from 144 random bits (base64url).
    static func generatePassword() -> String {
        let bytes = SymmetricKey(size: SymmetricKeySize(bitCount: 144)).withUnsafeBytes { Array($0) }
        return Page.encodeBytes(bytes)
    }

    static func create(
        store: Store, email: String, password: String?, hasher: PasswordHasher, now: Date, onlyIfNoUsers: Bool
    ) async throws -> Created? {
        let email = email.trimmingCharacters(in: .whitespaces).lowercased()
        guard AdminAPI.plausibleEmail(email) else { throw CHOMError(.invalidInput, "'\(email)' is not an email address") }
        if onlyIfNoUsers, try await store.users.count() > 0 { return nil }
        let secret = password ?? generatePassword()
        try PasswordHasher.validateNew(secret)
        let hash = try await hasher.hash(secret)
        try await store.write(now: now) { transaction in
            let user = try await store.users.create(
                id: UserID(), email: email, displayName: "Operator", passwordHash: hash, isOperator: true, now: now,
                in: transaction)
            try await transaction.record(AuditEntry(
                time: now, actor: "system", action: "user.operator.bootstrap", target: "user:\(user.id)",
                details: ["email": email]))
        }
        return Created(email: email, password: secret, generated: password == nil)
    }

    /// Prints the credential once on standard error (not through the logger, so no log sink keeps it).
    static func announce(_ created: Created) {
        var text = "chom-coordinator: created the first platform operator \(created.email)"
        if created.generated {
            text += " with the one-time password \(created.password)\n"
            text += "chom-coordinator: sign in with `chom login --email \(created.email)`, then change it with `chom password`\n"
        } else {
            text += "\n"
        }
        FileHandle.standardError.write(Data(text.utf8))
    }
}
