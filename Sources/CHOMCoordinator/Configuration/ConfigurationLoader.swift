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
        try configuration.dns.validate()
        try configuration.agents.validate()
        try configuration.billing.validate()
        try configuration.notifications.validate()
        try configuration.observability.validate()
        if let lifetime = configuration.backups.destination.s3?.presignLifetimeSeconds, !(1...604_800).contains(lifetime) {
            throw CHOMError(
                .configuration, "backups.destination.s3.presignLifetimeSeconds must be 1 to 604800, got \(lifetime)")
        }
        return configuration
    }

    package static func apply(environment: [String: String], to configuration: inout CoordinatorConfiguration) throws {
        for (name, keyPath) in environmentKeys {
            if let value = environment[name] { configuration[keyPath: keyPath] = value }
        }
        if let url = environment["CHOM_DATABASE_URL"] { configuration.databaseURL = url.isEmpty ? nil : url }
        if let keys = environment["CHOM_SECRETS_KEYS"] { configuration.secrets.keys = keys.isEmpty ? nil : keys }
        if let file = environment["CHOM_SECRETS_KEY_FILE"] { configuration.secrets.keyFile = file.isEmpty ? nil : file }
        if let value = environment["CHOM_BCRYPT_COST"] {
            guard let cost = Int(value), (4...31).contains(cost) else {
                throw CHOMError(.configuration, "CHOM_BCRYPT_COST must be 4 to 31, got '\(value)'")
            }
            configuration.auth.bcryptCost = cost
        }
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

    private static let knownKeys: [String: Set<String>] = [
        "": [
            "dataDirectory", "databaseURL", "logLevel", "api", "grpc", "auth", "secrets", "audit",
            "agents", "dispatch", "joinTokens", "backups", "leader", "fleet", "reconcile", "dns", "billing",
            "notifications", "observability",
        ],
        "observability": ["prometheusURL", "queryTimeoutSeconds"],
        "billing": [
            "defaultPlan", "issuer", "closeIntervalSeconds", "closeDelaySeconds", "graceDays", "stripeWebhookSecretFile",
        ],
        "notifications": [
            "smtp", "webhooks", "deliveryIntervalSeconds", "retryBaseSeconds", "retryCapSeconds", "maxAttempts",
            "alertmanagerTokenFile",
        ],
        "notifications.webhooks": ["enabled", "allowPrivateAddresses", "allowPlainHTTP", "timeoutSeconds"],
        "notifications.smtp": [
            "host", "port", "security", "trustRootsFile", "username", "passwordFile", "from", "heloName", "timeoutSeconds",
        ],
        "billing.defaultPlan": [
            "code", "name", "currency", "monthlyPriceMinor", "includedSites", "includedStorageGB", "includedBandwidthGB",
            "includedBackupGB", "includedMembers", "storageHardLimitGB", "overage", "trialDays", "stripePriceId",
        ],
        "auth": [
            "bcryptCost", "sessionTTLSeconds", "rotationGraceSeconds", "loginAttemptsPerAccount",
            "loginAttemptsPerAddress", "loginWindowSeconds", "invitationTTLSeconds", "bootstrapOperatorEmail",
        ],
        "secrets": ["keys", "keyFile", "activeKey"],
        "audit": ["checkpointEveryEntries", "checkpointEveryMinutes", "exportDirectory", "verifyEveryMinutes"],
        "api": ["host", "port", "maxBodyBytes"],
        "grpc": ["host", "port", "enrollPort", "advertisedHostnames", "advertisedAddresses"],
        "agents": [
            "certificateLifetimeSeconds", "heartbeatIntervalSeconds", "offlineGraceSeconds", "heartbeatTTLSeconds",
            "failureGraceSeconds", "maxHeartbeatsPerSecond", "siteLeaseSeconds",
            "enrollmentFailuresPerAddress", "enrollmentWindowSeconds", "enrollmentThrottleAddresses",
            "allowInternalAddresses",
        ],
        "dispatch": ["maxDeliveryAttempts", "envelopeTTLSeconds", "pollIntervalSeconds", "siteLogsTimeoutSeconds"],
        "joinTokens": ["defaultTTLSeconds", "defaultMaxUses"],
        "reconcile": ["staleGraceSeconds"],
        "backups": ["destination", "scheduleIntervalSeconds"],
        "leader": ["pollIntervalSeconds", "idleTransactionTimeoutSeconds"],
        "backups.destination": ["path", "s3"],
        "fleet": [
            "scheduler", "siteRequests", "rebalance", "maxConcurrentMigrations", "proxySeconds", "healthTimeoutSeconds",
            "tickSeconds", "dnsUpkeepSeconds", "sharedBackupDirectory", "failedMoveRetrySeconds", "failoverEnabled",
            "maxConcurrentFailovers",
        ],
        "fleet.scheduler": ["algorithm", "candidateLimit", "tenantAntiAffinityWeight", "reserveFraction"],
        "fleet.siteRequests": ["static", "php", "app"],
        "fleet.rebalance": ["utilizationThreshold", "maxMoves", "hysteresis"],
        "dns": ["provider", "powerdns", "fleetZone", "ttlSeconds", "directZones"],
        "dns.powerdns": [
            "apiURL", "serverID", "apiKey", "apiKeyFile", "requestTimeoutSeconds", "createZones", "nameservers",
        ],
        "backups.destination.s3": [
            "endpoint", "region", "bucket", "accessKeyId", "secretAccessKey", "secretAccessKeyFile", "prefix",
        ],
    ]

    private static func rejectUnknownKeys(_ data: Data, path: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CHOMError(.configuration, "configuration file \(path) is not a JSON object")
        }
        try rejectUnknownKeys(object, prefix: "", path: path)
    }

    /// Every key of `object` must be listed under its dotted path; nested objects are checked too.
    private static func rejectUnknownKeys(_ object: [String: Any], prefix: String, path: String) throws {
        guard let allowed = knownKeys[prefix] else { return }
        for (key, value) in object {
            let dotted = prefix.isEmpty ? key : "\(prefix).\(key)"
            guard allowed.contains(key) else {
                throw CHOMError(.configuration, "configuration file \(path): unknown key '\(dotted)'")
            }
            if let nested = value as? [String: Any] { try rejectUnknownKeys(nested, prefix: dotted, path: path) }
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
