import CHOMCore
import Foundation

extension CoordinatorConfiguration {
    /// DNS that follows each site: where records are written, the fleet zone that holds
    /// `<site-id>.<fleet zone>`, their TTL, and the zones where a site's own names get direct
    /// records. Off unless `provider` is set.
    package struct DNS: Sendable, Codable, Equatable {
        /// PowerDNS Authoritative's HTTP API. The key comes from `CHOM_DNS_POWERDNS_API_KEY`, else
        /// `apiKeyFile` (read when the provider is built), else `apiKey` inline.
        package struct PowerDNS: Sendable, Codable, Equatable {
            package var apiURL: String
            package var serverID = "localhost"
            package var apiKey: String?
            package var apiKeyFile: String?
            package var requestTimeoutSeconds = 10.0
            /// Create the fleet zone and the direct zones as Native zones at start when missing.
            package var createZones = false
            /// NS names given to zones created at start (none: PowerDNS writes only the SOA).
            package var nameservers: [String] = []

            package init(apiURL: String) { self.apiURL = apiURL }
        }

        /// `"powerdns"`, or nil for no DNS at all.
        package var provider: String?
        package var powerdns: PowerDNS?
        /// The zone holding fleet names, e.g. `fleet.example.com.`; required with a provider.
        package var fleetZone: String?
        package var ttlSeconds = 60
        /// Zones where domains and aliases get direct A/AAAA records; nil asks the provider for
        /// every zone it serves.
        package var directZones: [String]?

        package init() {}

        package var isEnabled: Bool { provider != nil }
    }
}

extension CoordinatorConfiguration.DNS {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        provider = try c.decodeIfPresent(String.self, forKey: .provider)
        powerdns = try c.decodeIfPresent(PowerDNS.self, forKey: .powerdns)
        fleetZone = try c.decodeIfPresent(String.self, forKey: .fleetZone)
        ttlSeconds = try c.decodeIfPresent(Int.self, forKey: .ttlSeconds) ?? ttlSeconds
        directZones = try c.decodeIfPresent([String].self, forKey: .directZones)
    }

    /// Refuses a provider this build does not have, a provider without its settings or without a
    /// fleet zone, a TTL outside 1–86,400 and names that are not DNS names. Nothing is checked
    /// with DNS off.
    package func validate() throws {
        guard let provider else { return }
        guard provider == "powerdns" else {
            throw CHOMError(.configuration, "dns.provider must be \"powerdns\" or absent, got '\(provider.prefix(40))'")
        }
        guard let powerdns else { throw CHOMError(.configuration, "dns.provider powerdns needs dns.powerdns.apiURL") }
        guard let url = URL(string: powerdns.apiURL), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
            url.host != nil
        else {
            throw CHOMError(.configuration, "dns.powerdns.apiURL must be http(s)://HOST[:PORT]")
        }
        guard powerdns.requestTimeoutSeconds > 0 else {
            throw CHOMError(.configuration, "dns.powerdns.requestTimeoutSeconds must be positive")
        }
        guard let fleetZone, DomainName.isValid(Self.bare(fleetZone)) else {
            throw CHOMError(.configuration, "dns.fleetZone must be a DNS name, e.g. fleet.example.com.")
        }
        guard (1...86_400).contains(ttlSeconds) else {
            throw CHOMError(.configuration, "dns.ttlSeconds must be 1 to 86400, got \(ttlSeconds)")
        }
        for zone in directZones ?? [] where !DomainName.isValid(Self.bare(zone)) {
            throw CHOMError(.configuration, "dns.directZones: '\(zone.prefix(80))' is not a DNS name")
        }
        for server in powerdns.nameservers where !DomainName.isValid(Self.bare(server)) {
            throw CHOMError(.configuration, "dns.powerdns.nameservers: '\(server.prefix(80))' is not a DNS name")
        }
    }

    private static func bare(_ name: String) -> String {
        let lower = name.lowercased()
        return lower.hasSuffix(".") ? String(lower.dropLast()) : lower
    }
}

extension CoordinatorConfiguration.DNS.PowerDNS {
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(apiURL: try c.decode(String.self, forKey: .apiURL))
        serverID = try c.decodeIfPresent(String.self, forKey: .serverID) ?? serverID
        apiKey = try c.decodeIfPresent(String.self, forKey: .apiKey)
        apiKeyFile = try c.decodeIfPresent(String.self, forKey: .apiKeyFile)
        requestTimeoutSeconds =
            try c.decodeIfPresent(Double.self, forKey: .requestTimeoutSeconds) ?? requestTimeoutSeconds
        createZones = try c.decodeIfPresent(Bool.self, forKey: .createZones) ?? createZones
        nameservers = try c.decodeIfPresent([String].self, forKey: .nameservers) ?? nameservers
    }

    /// The API key from the environment, the file, or inline; `.configuration` when none is set
    /// or the file cannot be read (the message names the file, never its content).
    package func resolvedAPIKey(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let value = environment["CHOM_DNS_POWERDNS_API_KEY"], !value.isEmpty { return value }
        if let file = apiKeyFile {
            let key: String
            do {
                key = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw CHOMError(.configuration, "cannot read dns.powerdns.apiKeyFile \(file)")
            }
            guard !key.isEmpty else { throw CHOMError(.configuration, "dns.powerdns.apiKeyFile \(file) is empty") }
            return key
        }
        if let apiKey, !apiKey.isEmpty { return apiKey }
        throw CHOMError(
            .configuration,
            "the PowerDNS API key is not set: CHOM_DNS_POWERDNS_API_KEY, dns.powerdns.apiKeyFile or dns.powerdns.apiKey")
    }
}
