import Foundation

/// Everything the coordinator can be configured with, with the defaults of
/// `coordinator-config/coordinator.json`. Parsing lives in `ConfigurationLoader`.
package struct CoordinatorConfiguration: Sendable, Codable, Equatable {
    package struct API: Sendable, Codable, Equatable {
        package var host = "127.0.0.1"
        package var port = 8080
        package var maxBodyBytes = 256 << 20
        package init() {}
    }

    package struct GRPC: Sendable, Codable, Equatable {
        package var host = "0.0.0.0"
        /// The mutual-TLS agent listener (Connect, FetchArtifact).
        package var port = 8443
        /// The server-auth TLS enrollment listener (Enroll).
        package var enrollPort = 8444
        package var advertisedHostnames = ["localhost"]
        package var advertisedAddresses = ["127.0.0.1"]
        package init() {}
    }

    package struct Agents: Sendable, Codable, Equatable {
        package var certificateLifetimeSeconds = 86_400.0
        package var heartbeatIntervalSeconds = 10.0
        package var offlineGraceSeconds = 30.0
        package init() {}
    }

    package struct Dispatch: Sendable, Codable, Equatable {
        package var maxDeliveryAttempts = 5
        package var envelopeTTLSeconds = 600.0
        package var pollIntervalSeconds = 2.0
        package init() {}
    }

    package struct JoinTokens: Sendable, Codable, Equatable {
        package var defaultTTLSeconds = 3600.0
        package var defaultMaxUses = 1
        package init() {}
    }

    package var dataDirectory = "/var/lib/chom-coordinator"
    package var databaseURL: String?
    package var logLevel = "info"
    package var api = API()
    package var grpc = GRPC()
    package var bootstrapToken: String?
    package var bootstrapTokenFile: String? = "/etc/chom-coordinator/bootstrap-token"
    package var agents = Agents()
    package var dispatch = Dispatch()
    package var joinTokens = JoinTokens()

    package init() {}
}

// Every key is optional in the file: decode over the defaults.
extension CoordinatorConfiguration.API {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? maxBodyBytes
    }
}

extension CoordinatorConfiguration.GRPC {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
        enrollPort = try c.decodeIfPresent(Int.self, forKey: .enrollPort) ?? enrollPort
        advertisedHostnames = try c.decodeIfPresent([String].self, forKey: .advertisedHostnames) ?? advertisedHostnames
        advertisedAddresses = try c.decodeIfPresent([String].self, forKey: .advertisedAddresses) ?? advertisedAddresses
    }
}

extension CoordinatorConfiguration.Agents {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        certificateLifetimeSeconds =
            try c.decodeIfPresent(Double.self, forKey: .certificateLifetimeSeconds) ?? certificateLifetimeSeconds
        heartbeatIntervalSeconds =
            try c.decodeIfPresent(Double.self, forKey: .heartbeatIntervalSeconds) ?? heartbeatIntervalSeconds
        offlineGraceSeconds = try c.decodeIfPresent(Double.self, forKey: .offlineGraceSeconds) ?? offlineGraceSeconds
    }
}

extension CoordinatorConfiguration.Dispatch {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxDeliveryAttempts = try c.decodeIfPresent(Int.self, forKey: .maxDeliveryAttempts) ?? maxDeliveryAttempts
        envelopeTTLSeconds = try c.decodeIfPresent(Double.self, forKey: .envelopeTTLSeconds) ?? envelopeTTLSeconds
        pollIntervalSeconds = try c.decodeIfPresent(Double.self, forKey: .pollIntervalSeconds) ?? pollIntervalSeconds
    }
}

extension CoordinatorConfiguration.JoinTokens {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        defaultTTLSeconds = try c.decodeIfPresent(Double.self, forKey: .defaultTTLSeconds) ?? defaultTTLSeconds
        defaultMaxUses = try c.decodeIfPresent(Int.self, forKey: .defaultMaxUses) ?? defaultMaxUses
    }
}

extension CoordinatorConfiguration {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dataDirectory = try c.decodeIfPresent(String.self, forKey: .dataDirectory) ?? dataDirectory
        databaseURL = try c.decodeIfPresent(String.self, forKey: .databaseURL) ?? databaseURL
        logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel) ?? logLevel
        api = try c.decodeIfPresent(API.self, forKey: .api) ?? api
        grpc = try c.decodeIfPresent(GRPC.self, forKey: .grpc) ?? grpc
        bootstrapToken = try c.decodeIfPresent(String.self, forKey: .bootstrapToken) ?? bootstrapToken
        bootstrapTokenFile = try c.decodeIfPresent(String.self, forKey: .bootstrapTokenFile) ?? bootstrapTokenFile
        agents = try c.decodeIfPresent(Agents.self, forKey: .agents) ?? agents
        dispatch = try c.decodeIfPresent(Dispatch.self, forKey: .dispatch) ?? dispatch
        joinTokens = try c.decodeIfPresent(JoinTokens.self, forKey: .joinTokens) ?? joinTokens
    }
}
