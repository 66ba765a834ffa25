import ArgumentParser
import CHOMCoordinator
import Foundation
import Logging

struct BootstrapOperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bootstrap-operator",
        abstract: "Create a platform operator and print its one-time password once.",
        discussion: """
            Run it once on a new installation (the coordinator also creates auth.bootstrapOperatorEmail on its
            first start when there is no user at all). Without --password-stdin a random password is generated
            and printed on standard output; it is never logged. Sign in with `chom login`, then change it with
            `chom password`.
            """)

    @Option(help: "Path of the JSON configuration file.") var config: String?
    @Option(help: "Directory for keys and the embedded PostgreSQL.") var dataDir: String?
    @Option(help: "postgres://user[:password]@host[:port]/database (default: embedded PostgreSQL).")
    var databaseURL: String?
    @Option(help: "The operator's email address (their sign-in name).") var email: String
    @Flag(help: "Read the password (12 to 200 characters) from the first line of standard input.")
    var passwordStdin = false

    func run() async throws {
        let configuration = try loadConfiguration(file: config, dataDir: dataDir, databaseURL: databaseURL)
        let logger = bootstrapLogging("warning")
        let password = passwordStdin ? readLine(strippingNewline: true) : nil
        if passwordStdin, password == nil { throw ValidationError("no password on standard input") }
        do {
            let created = try await Maintenance.bootstrapOperator(
                configuration, logger: logger, email: email, password: password)
            if let generated = created.generatedPassword {
                print("operator \(created.email) created; one-time password: \(generated)")
            } else {
                print("operator \(created.email) created")
            }
        } catch {
            FileHandle.standardError.write(Data("chom-coordinator: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

struct RotateSecretsKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-secrets-key",
        abstract: "Add a new key-encryption key to the key file, make it active and re-encrypt every secret.",
        discussion: """
            Secrets at rest (two-factor secrets) are sealed with AES-GCM under the active key of the key file
            (secrets.keyFile, default <data-dir>/secrets.keys); each ciphertext names its key. This appends a
            fresh key, re-encrypts everything under it and keeps the old keys so that running coordinators
            can still open anything they read before restarting. Restart the coordinators afterwards.
            """)

    @Option(help: "Path of the JSON configuration file.") var config: String?
    @Option(help: "Directory for keys and the embedded PostgreSQL.") var dataDir: String?
    @Option(help: "postgres://user[:password]@host[:port]/database (default: embedded PostgreSQL).")
    var databaseURL: String?

    func run() async throws {
        let configuration = try loadConfiguration(file: config, dataDir: dataDir, databaseURL: databaseURL)
        let logger = bootstrapLogging("warning")
        do {
            let (keyID, count) = try await Maintenance.rotateSecretsKey(configuration, logger: logger)
            print("active secrets key is now \(keyID); re-encrypted \(count) secret(s)")
        } catch {
            FileHandle.standardError.write(Data("chom-coordinator: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

struct StripeConfigureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stripe-configure",
        abstract: "Store the Stripe account CHOM bills through: secret key and webhook secret, sealed at rest.",
        discussion: """
            The secret key (sk_…) and the webhook endpoint's signing secret (whsec_…) are read from files (so they
            never appear in a process list or shell history), sealed with the coordinator's secrets key and stored
            in PostgreSQL, where every replica reads them; rotate-secrets-key reseals them. Leave an option out to
            keep what is stored. With a secret key, the leader links each organization whose plan has a Stripe
            price to a Stripe customer and subscription, and sends each closed invoice to Stripe for payment; the
            webhook endpoint is POST /v1/billing/stripe/webhook. CHOM_STRIPE_WEBHOOK_SECRET and
            billing.stripeWebhookSecretFile still take precedence for the webhook secret.
            """)

    @Option(help: "Path of the JSON configuration file.") var config: String?
    @Option(help: "Directory for keys and the embedded PostgreSQL.") var dataDir: String?
    @Option(help: "postgres://user[:password]@host[:port]/database (default: embedded PostgreSQL).")
    var databaseURL: String?
    @Option(help: "Stripe's API base URL (default https://api.stripe.com; a localstripe's for tests).")
    var apiBase: String?
    @Option(help: ArgumentHelp("A file holding the secret key (sk_…).", valueName: "path")) var secretKeyFile: String?
    @Option(help: ArgumentHelp("A file holding the webhook signing secret (whsec_…).", valueName: "path"))
    var webhookSecretFile: String?

    func run() async throws {
        let configuration = try loadConfiguration(file: config, dataDir: dataDir, databaseURL: databaseURL)
        let logger = bootstrapLogging("warning")
        func read(_ path: String?) throws -> String? {
            guard let path else { return nil }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read \(path)")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var base: URL?
        if let apiBase {
            guard let url = URL(string: apiBase) else { throw ValidationError("--api-base is not a URL") }
            base = url
        }
        guard base != nil || secretKeyFile != nil || webhookSecretFile != nil else {
            throw ValidationError("give --api-base, --secret-key-file or --webhook-secret-file")
        }
        do {
            try await Maintenance.configureStripe(
                configuration, logger: logger, apiBase: base, secretKey: try read(secretKeyFile),
                webhookSecret: try read(webhookSecretFile))
            print("Stripe settings stored (secrets sealed)")
        } catch {
            FileHandle.standardError.write(Data("chom-coordinator: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
