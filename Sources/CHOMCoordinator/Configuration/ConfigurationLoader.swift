import CHOMCore
import Foundation

/// Builds the configuration: defaults, then the JSON file, then environment variables,
/// then flags (the executable applies flags last). Unknown keys in the file are errors.
package enum ConfigurationLoader {
    static var environmentKeys: [String: WritableKeyPath<CoordinatorConfiguration, String>] {
        [
        "CHOM_DATA_DIR": \.dataDirectory,
        "CHOM_LOG_LEVEL": \.logLevel,
        "CHOM_API_HOST": \.api.host,
        "CHOM_GRPC_HOST": \.grpc.host,
        ]
    }

    package static func load(
        file: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> CoordinatorConfiguration {
        var configuration = CoordinatorConfiguration()
        if let path = file ?? environment["CHOM_CONFIG"] {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw CHOMError(.configuration, "cannot read configuration file \(path)")
            }
            try rejectUnknownKeys(data, path: path)
            do {
                configuration = try JSONDecoder().decode(CoordinatorConfiguration.self, from: data)
            } catch {
                throw CHOMError(.configuration, "configuration file \(path) is invalid: \(describe(error))")
            }
        }
        try apply(environment: environment, to: &configuration)
        return configuration
    }

    package static func apply(environment: [String: String], to configuration: inout CoordinatorConfiguration) throws {
        for (name, keyPath) in environmentKeys {
            if let value = environment[name] { configuration[keyPath: keyPath] = value }
        }
        if let url = environment["CHOM_DATABASE_URL"] { configuration.databaseURL = url.isEmpty ? nil : url }
        if let token = environment["CHOM_BOOTSTRAP_TOKEN"] { configuration.bootstrapToken = token }
        if let file = environment["CHOM_BOOTSTRAP_TOKEN_FILE"] { configuration.bootstrapTokenFile = file }
        for (name, keyPath) in [
            "CHOM_API_PORT": \CoordinatorConfiguration.api.port, "CHOM_GRPC_PORT": \.grpc.port,
            "CHOM_GRPC_ENROLL_PORT": \.grpc.enrollPort,
        ] {
            guard let value = environment[name] else { continue }
            guard let port = Int(value), (0...65535).contains(port) else {
                throw CHOMError(.configuration, "\(name) must be a port number, got '\(value)'")
            }
            configuration[keyPath: keyPath] = port
        }
    }

    /// The bootstrap operator token: the configured value, else the token file's first line.
    package static func bootstrapToken(_ configuration: CoordinatorConfiguration) throws -> String {
        if let token = configuration.bootstrapToken, !token.isEmpty { return try validated(token) }
        guard let path = configuration.bootstrapTokenFile else {
            throw CHOMError(.configuration, "no bootstrap token: set bootstrapToken, CHOM_BOOTSTRAP_TOKEN or a token file")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CHOMError(.configuration, "cannot read the bootstrap token file \(path)")
        }
        return try validated(text.split(whereSeparator: \.isNewline).first.map(String.init) ?? "")
    }

    private static func validated(_ token: String) throws -> String {
        let token = token.trimmingCharacters(in: .whitespaces)
        guard token.utf8.count >= 24 else {
            throw CHOMError(.configuration, "the bootstrap token must be at least 24 characters")
        }
        return token
    }

    private static let knownKeys: [String: Set<String>] = [
        "": [
            "dataDirectory", "databaseURL", "logLevel", "api", "grpc", "bootstrapToken", "bootstrapTokenFile",
            "agents", "dispatch", "joinTokens",
        ],
        "api": ["host", "port", "maxBodyBytes"],
        "grpc": ["host", "port", "enrollPort", "advertisedHostnames", "advertisedAddresses"],
        "agents": ["certificateLifetimeSeconds", "heartbeatIntervalSeconds", "offlineGraceSeconds"],
        "dispatch": ["maxDeliveryAttempts", "envelopeTTLSeconds", "pollIntervalSeconds"],
        "joinTokens": ["defaultTTLSeconds", "defaultMaxUses"],
    ]

    private static func rejectUnknownKeys(_ data: Data, path: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CHOMError(.configuration, "configuration file \(path) is not a JSON object")
        }
        for (key, value) in object {
            guard knownKeys[""]!.contains(key) else {
                throw CHOMError(.configuration, "configuration file \(path): unknown key '\(key)'")
            }
            if let nested = value as? [String: Any], let allowed = knownKeys[key] {
                for inner in nested.keys where !allowed.contains(inner) {
                    throw CHOMError(.configuration, "configuration file \(path): unknown key '\(key).\(inner)'")
                }
            }
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "\(path): \(context.debugDescription)"
        default:
            return "not valid JSON"
        }
    }
}
