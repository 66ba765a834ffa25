import CHOMAudit
import CHOMCore
import CHOMStore
import Foundation

/// The Stripe account CHOM bills through, stored in PostgreSQL so that every replica sees it:
/// the secret key and the webhook signing secret sealed with the coordinator's secrets key
/// (`SecretBox`, like two-factor seeds and TLS keys; `rotate-secrets-key` reseals them), the API
/// base in clear. Set with `chom-coordinator stripe-configure`; never returned by any API.
struct StripeSettings: Sendable, Equatable {
    static let defaultBase = URL(string: "https://api.stripe.com")!

    var apiBase: URL
    var secretKey: String?
    var webhookSecret: String?

    static func context(_ name: String) -> String { "stripe:\(name)" }
    static let sealedNames = ["secret_key", "webhook_secret"]

    /// What is stored, opened; nil if nothing is.
    static func load(store: Store, box: SecretBox) async throws -> StripeSettings? {
        let stored = try await store.stripe.settings()
        guard !stored.isEmpty else { return nil }
        func open(_ name: String) throws -> String? {
            guard let sealed = stored[name] else { return nil }
            do {
                return String(decoding: try box.open(sealed, context: context(name)), as: UTF8.self)
            } catch {
                throw CHOMError(.integrity, "the stored Stripe \(name) cannot be opened with the secrets key: \(error)")
            }
        }
        return StripeSettings(
            apiBase: stored["api_base"].flatMap(URL.init(string:)) ?? defaultBase, secretKey: try open("secret_key"),
            webhookSecret: try open("webhook_secret"))
    }

    /// Seals and stores what is given (nil leaves a setting as it is), audited without the values.
    static func save(
        store: Store, box: SecretBox, apiBase: URL?, secretKey: String?, webhookSecret: String?, now: Date
    ) async throws {
        if let apiBase {
            guard let scheme = apiBase.scheme, ["https", "http"].contains(scheme), apiBase.host != nil else {
                throw CHOMError(.invalidInput, "the Stripe API base must be an http(s) URL")
            }
        }
        for (name, value) in [("secret key", secretKey), ("webhook secret", webhookSecret)] {
            if let value, value.isEmpty || value.count > 500 || value.contains(where: \.isWhitespace) {
                throw CHOMError(.invalidInput, "the Stripe \(name) must be 1 to 500 characters without spaces")
            }
        }
        try await store.write(now: now) { transaction in
            var changed: [String] = []
            if let apiBase {
                try await store.stripe.setSetting("api_base", value: apiBase.absoluteString, now: now, in: transaction)
                changed.append("api_base")
            }
            for (name, value) in [("secret_key", secretKey), ("webhook_secret", webhookSecret)] {
                guard let value else { continue }
                let sealed = box.seal(plaintext: Data(value.utf8), context: context(name))
                try await store.stripe.setSetting(name, value: sealed, now: now, in: transaction)
                changed.append(name)
            }
            try await transaction.record(AuditEntry(
                time: now, actor: "system", action: "billing.stripe.configure", target: "stripe",
                details: ["changed": changed.joined(separator: ",")]))
        }
    }
}
