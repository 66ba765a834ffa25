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
