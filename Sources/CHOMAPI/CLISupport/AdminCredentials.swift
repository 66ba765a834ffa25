package import Foundation

/// Which coordinator and bearer token a `chom` command uses.
///
/// The token: `--token` > `$CHOM_TOKEN` > the `chom login` session in `~/.config/chom/credentials.json`
/// > the first line of the legacy `~/.config/chom/token`. The session is used when it belongs to the
/// coordinator given with `--coordinator`/`$CHOM_COORDINATOR`, or when none was given, in which case
/// its coordinator is the one used. Otherwise the coordinator is `--coordinator` >
/// `$CHOM_COORDINATOR` > the default.
package enum AdminCredentials {
    package enum Source: Sendable, Equatable {
        case flag
        case environment
        /// The `chom login` session stored in this file.
        case session(String)
        /// The legacy token file.
        case legacyFile(String)
    }

    package struct Resolution: Sendable, Equatable {
        /// The coordinator address text, before parsing.
        package var coordinator: String
        package var token: String?
        package var source: Source?
        /// The stored session, when `source` is `.session`.
        package var session: StoredSession?
        /// The coordinator of a stored session left unused because another coordinator was asked for.
        package var otherSessionCoordinator: String?
        /// Things to tell the user (never a token).
        package var warnings: [String]

        package init(
            coordinator: String, token: String?, source: Source?, session: StoredSession? = nil,
            otherSessionCoordinator: String? = nil, warnings: [String] = []
        ) {
            self.coordinator = coordinator
            self.token = token
            self.source = source
            self.session = session
            self.otherSessionCoordinator = otherSessionCoordinator
            self.warnings = warnings
        }
    }

    /// The coordinator given with `--coordinator` or `$CHOM_COORDINATOR`, or nil when neither was.
    package static func explicitCoordinator(flag: String?, environment: [String: String]) -> String? {
        if let flag = trimmed(flag) { return flag }
        return trimmed(environment[CoordinatorAddress.environmentVariable])
    }

    package static func resolve(
        tokenFlag: String?, coordinatorFlag: String?, environment: [String: String], credentialsFile: URL,
        legacyFile: URL
    ) -> Resolution {
        let explicit = explicitCoordinator(flag: coordinatorFlag, environment: environment)
        let fallback = explicit ?? CoordinatorAddress.defaultAddress
        if let token = trimmed(tokenFlag) { return Resolution(coordinator: fallback, token: token, source: .flag) }
        if let token = trimmed(environment[AdminToken.environmentVariable]) {
            return Resolution(coordinator: fallback, token: token, source: .environment)
        }
        let loaded = CredentialsFile.load(credentialsFile)
        var otherCoordinator: String?
        if let session = loaded.session {
            if let explicit, !CoordinatorAddress.same(explicit, session.coordinator) {
                otherCoordinator = session.coordinator
            } else {
                return Resolution(
                    coordinator: explicit ?? session.coordinator, token: session.token,
                    source: .session(credentialsFile.path), session: session, warnings: loaded.warnings)
            }
        }
        let legacy = AdminToken.fromFile(legacyFile)
        return Resolution(
            coordinator: fallback, token: legacy.token, source: legacy.token == nil ? nil : .legacyFile(legacyFile.path),
            otherSessionCoordinator: otherCoordinator, warnings: loaded.warnings + legacy.warnings)
    }

    private static func trimmed(_ value: String?) -> String? {
        guard let value = value?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}

extension CoordinatorAddress {
    /// Whether two address texts name the same coordinator: scheme and host compared without case,
    /// an absent port equal to the scheme's default, trailing slashes of the path ignored.
    package static func same(_ first: String, _ second: String) -> Bool {
        guard let first = parse(first).flatMap(canonical), let second = parse(second).flatMap(canonical) else {
            return first == second
        }
        return first == second
    }

    private static func canonical(_ url: URL) -> String? {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false),
            let scheme = components.scheme?.lowercased(), let host = components.host?.lowercased()
        else { return nil }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        return "\(scheme)://\(host):\(port)\(path)"
    }
}
