import CHOMAudit
import CHOMCore
import CHOMStore
package import Foundation
package import Logging

/// The coordinator's one-shot commands: `bootstrap-operator`, `rotate-secrets-key` and `stripe-configure`.
package enum Maintenance {
    package struct CreatedOperator: Sendable {
        package let email: String
        /// Set only when the password was generated here (print it once).
        package let generatedPassword: String?
    }

    /// Creates a platform operator. `password` nil: a random one is generated and returned once.
    package static func bootstrapOperator(
        _ configuration: CoordinatorConfiguration, logger: Logger, email: String, password: String?
    ) async throws -> CreatedOperator {
        try await CoordinatorDatabase.withStore(configuration, logger: logger) { store, _ in
            if try await store.users.get(email: email) != nil {
                throw CHOMError(.conflict, "a user with the email \(email) already exists")
            }
            let created = try await BootstrapOperator.create(
                store: store, email: email, password: password,
                hasher: PasswordHasher(cost: configuration.auth.bcryptCost), now: Date(), onlyIfNoUsers: false)
            guard let created else { throw CHOMError(.internal, "the operator was not created") }
            return CreatedOperator(email: created.email, generatedPassword: created.generated ? created.password : nil)
        }
    }

    /// Adds a fresh key to the key file, makes it active and re-encrypts every secret under it
    /// (two-factor seeds, TLS and backup keys, payloads of tasks waiting for an agent's key).
    /// Returns the new key id and how many secrets were re-encrypted.
    package static func rotateSecretsKey(_ configuration: CoordinatorConfiguration, logger: Logger) async throws
        -> (keyID: String, resealed: Int)
    {
        _ = try SecretKeys.load(configuration)  // creates the file on a fresh install
        let keyID = try SecretKeys.appendKey(configuration)
        let box = SecretBox(keyRing: try SecretKeys.load(configuration, createIfMissing: false))
        return try await CoordinatorDatabase.withStore(configuration, logger: logger) { store, _ in
            var resealed = 0
            for (user, sealed) in try await store.twoFactor.allSealed() where box.needsRotation(sealed) {
                let changed = try await reseal(
                    sealed, context: IdentityServices.totpContext(user), what: "the two-factor secret of user \(user)",
                    target: "user:\(user)", kind: "totp", keyID: keyID, box: box, store: store
                ) { fresh, transaction in
                    try await store.twoFactor.reseal(user, from: sealed, to: fresh, in: transaction)
                }
                if changed { resealed += 1 }
            }
            for kind in SealedSecretRepository.Kind.allCases {
                for (owner, sealed) in try await store.sealedSecrets.all(kind) where box.needsRotation(sealed) {
                    let context = switch kind {
                    case .tlsKey: SiteTaskBuilder.tlsKeyContext(SiteID(owner))
                    case .backupKey: SiteTaskBuilder.backupKeyContext(TenantID(owner))
                    case .webhookSecret: WebhookDelivery.secretContext(owner)
                    }
                    let changed = try await reseal(
                        sealed, context: context, what: "the \(kind.rawValue) of \(owner)",
                        target: "\(kind.ownerNoun):\(owner.uuidString.lowercased())", kind: kind.rawValue,
                        keyID: keyID, box: box, store: store
                    ) { fresh, transaction in
                        try await store.sealedSecrets.reseal(kind, owner: owner, from: sealed, to: fresh, in: transaction)
                    }
                    if changed { resealed += 1 }
                }
            }
            // Tasks waiting for an agent's sealing key hold their payload sealed at rest.
            for (task, sealed) in try await store.tasks.sealedAtRest()
            where box.needsRotation(String(decoding: sealed, as: UTF8.self)) {
                let fresh: [UInt8]
                do {
                    fresh = QueuedTaskPayload.seal(try QueuedTaskPayload.open(sealed, box: box, task: task), box: box, task: task)
                } catch {
                    throw CHOMError(.integrity, "the queued payload of task \(task) cannot be opened: \(error)")
                }  // a typed SecretBoxError: no payload bytes in it
                let now = Date()
                let changed = try await store.write(now: now) { transaction in
                    let changed = try await store.tasks.resealPayload(task, from: sealed, to: fresh, in: transaction)
                    try await transaction.record(AuditEntry(
                        time: now, actor: "system", action: "secrets.reseal", target: "task:\(task)",
                        details: ["key_id": keyID, "kind": "task_payload"]))
                    return changed
                }
                if changed { resealed += 1 }
            }
            // The Stripe secret key and webhook secret.
            let stored = try await store.stripe.settings()
            for name in StripeSettings.sealedNames {
                guard let sealed = stored[name], box.needsRotation(sealed) else { continue }
                let changed = try await reseal(
                    sealed, context: StripeSettings.context(name), what: "the stored Stripe \(name)",
                    target: "stripe:\(name)", kind: "stripe_\(name)", keyID: keyID, box: box, store: store
                ) { fresh, transaction in
                    try await store.stripe.resealSetting(name, from: sealed, to: fresh, in: transaction)
                }
                if changed { resealed += 1 }
            }
            return (keyID, resealed)
        }
    }

    /// Reseals one secret under the active key and stores it through `replace` (which changes it
    /// only if it is still `sealed`), audited; true if it was replaced.
    private static func reseal(
        _ sealed: String, context: String, what: String, target: String, kind: String, keyID: String, box: SecretBox,
        store: Store, replace: (String, AuditedTransaction) async throws -> Bool
    ) async throws -> Bool {
        let fresh: String
        do {
            fresh = try box.reseal(sealed, context: context)
        } catch {
            throw CHOMError(.integrity, "\(what) cannot be opened: \(error)")
        }  // a typed SecretBoxError: no secret in it
        let now = Date()
        return try await store.write(now: now) { transaction in
            let changed = try await replace(fresh, transaction)
            try await transaction.record(AuditEntry(
                time: now, actor: "system", action: "secrets.reseal", target: target,
                details: ["key_id": keyID, "kind": kind]))
            return changed
        }
    }

    /// Stores the Stripe account CHOM bills through (`stripe-configure`): the secret key and webhook
    /// secret sealed with the secrets key, the API base in clear. Nil leaves a setting unchanged.
    package static func configureStripe(
        _ configuration: CoordinatorConfiguration, logger: Logger, apiBase: URL?, secretKey: String?,
        webhookSecret: String?
    ) async throws {
        let box = SecretBox(keyRing: try SecretKeys.load(configuration))
        try await CoordinatorDatabase.withStore(configuration, logger: logger) { store, _ in
            try await StripeSettings.save(
                store: store, box: box, apiBase: apiBase, secretKey: secretKey, webhookSecret: webhookSecret, now: Date())
        }
    }
}
