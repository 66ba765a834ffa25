import ArgumentParser
import CHOMAPI
import Foundation

/// The options every command takes: where the coordinator is, the admin token, the output format.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The coordinator's admin API (default: $CHOM_COORDINATOR, else the `chom login` session's, else \(CoordinatorAddress.defaultAddress)).",
            valueName: "url"))
    var coordinator: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A bearer token (default: $CHOM_TOKEN, else the `chom login` session, else ~/.config/chom/token). A flag is visible in ps: prefer `chom login`.",
            valueName: "token"))
    var token: String?

    @Option(name: .long, help: "Output format: table or json.")
    var output: OutputFormat = .table

    var json: Bool { output == .json }

    func validate() throws {
        if let text = AdminCredentials.explicitCoordinator(flag: coordinator, environment: environment),
            CoordinatorAddress.parse(text) == nil
        {
            throw ValidationError("'\(text)' is not an http:// or https:// address of the coordinator")
        }
    }

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// `~/.config/chom/credentials.json`, where `chom login` keeps the session.
    var credentialsFile: URL { CredentialsFile.defaultFile(environment: environment) }

    /// A client, its token and where the token came from.
    struct Connection {
        var client: AdminClient
        var resolution: AdminCredentials.Resolution
        /// The stored session in use (after any rotation), when the token is the `chom login` session's.
        var session: StoredSession? { resolution.session }
    }

    /// A client with the resolved address and token. A stored session close to expiry is rotated
    /// first and the new token stored. Warns on stderr about credential files others can read.
    /// - Parameter requireToken: fail up front, with a hint, when no token was found.
    func connect(requireToken: Bool = true) async throws -> Connection {
        var resolution = AdminCredentials.resolve(
            tokenFlag: token, coordinatorFlag: coordinator, environment: environment,
            credentialsFile: credentialsFile, legacyFile: AdminToken.defaultFile(environment: environment))
        for warning in resolution.warnings { Console.warning(warning) }
        let url = try Self.url(resolution.coordinator)
        if let session = resolution.session {
            do {
                let current = try await refreshed(session, client: AdminClient(baseURL: url, token: nil))
                resolution.session = current
                resolution.token = current.token
            } catch let error as CLIError where !requireToken {
                // A command that works without a token goes on without the unusable session.
                Console.warning(error.message)
                resolution.session = nil
                resolution.token = nil
                resolution.source = nil
            }
        }
        if requireToken, resolution.token == nil {
            var message = "not logged in: run `chom login` (or pass --token, or set $CHOM_TOKEN)"
            if let other = resolution.otherSessionCoordinator {
                message += "; the stored session is for \(other), not \(resolution.coordinator)"
            }
            throw CLIError(message)
        }
        return Connection(client: AdminClient(baseURL: url, token: resolution.token), resolution: resolution)
    }

    /// A client with the resolved address and token (see `connect`).
    func client(requireToken: Bool = true) async throws -> AdminClient {
        try await connect(requireToken: requireToken).client
    }

    /// A client that sends no token (logging in, accepting an invitation), for the coordinator given
    /// with --coordinator or $CHOM_COORDINATOR, else the stored session's, else the default.
    func anonymousClient() throws -> AdminClient {
        AdminClient(baseURL: try Self.url(anonymousCoordinator()), token: nil)
    }

    func anonymousCoordinator() -> String {
        if let explicit = AdminCredentials.explicitCoordinator(flag: coordinator, environment: environment) {
            return explicit
        }
        return CredentialsFile.load(credentialsFile).session?.coordinator ?? CoordinatorAddress.defaultAddress
    }

    /// Stores `session`, turning a failure into a one-line CLI error.
    func store(_ session: StoredSession) throws {
        do {
            try CredentialsFile.save(session, to: credentialsFile)
        } catch {
            throw CLIError("cannot store the session: \(error)")
        }
    }

    /// Forgets the stored session; true when there was one.
    @discardableResult
    func forgetSession() throws -> Bool {
        do {
            return try CredentialsFile.delete(credentialsFile)
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// `session`, rotated first when it is close to expiry (the new one stored).
    private func refreshed(_ session: StoredSession, client: AdminClient) async throws -> StoredSession {
        switch await SessionRotation.refresh(session, client: client) {
        case .current(let current):
            return current
        case .rotated(let rotated):
            do {
                try CredentialsFile.save(rotated, to: credentialsFile)
            } catch {
                Console.warning(
                    "the session token was rotated but cannot be stored (\(error)); this command uses the new one, "
                        + "later ones fail once the old one's grace period ends: run `chom login` then")
            }
            return rotated
        case .loginRequired(let message):
            throw CLIError(message)
        case .failed(let current, let message):
            // Another chom may have rotated it a moment ago: its successor is in the file.
            if let stored = CredentialsFile.load(credentialsFile).session, stored.token != current.token,
                CoordinatorAddress.same(stored.coordinator, current.coordinator),
                SessionRotation.decide(stored, now: Date()) != .expired
            {
                return stored
            }
            Console.warning(message)
            return current
        }
    }

    private static func url(_ text: String) throws -> URL {
        guard let url = CoordinatorAddress.parse(text) else {
            throw CLIError("'\(text)' is not an http:// or https:// address of the coordinator")
        }
        return url
    }
}
