import CHOMCore
package import CHOMDNS
package import Foundation
package import Logging

/// From the `dns` settings to the objects that write records: the provider, and the publisher
/// that placement, migration and removal call. Both are nil with DNS off (`dns.provider` absent).
extension CoordinatorConfiguration.DNS {
    /// The provider `dns.provider` names, with its key resolved now (environment, file, inline);
    /// nil with DNS off; `.configuration` for unusable settings or a missing key.
    package func makeProvider(
        environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger
    ) throws -> (any DNSProvider)? {
        try validate()
        guard provider != nil, let powerdns else { return nil }
        guard let url = URL(string: powerdns.apiURL) else {
            throw CHOMError(.configuration, "dns.powerdns.apiURL must be http(s)://HOST[:PORT]")
        }
        let configuration = PowerDNSProvider.Configuration(
            apiURL: url, serverID: powerdns.serverID, apiKey: try powerdns.resolvedAPIKey(environment: environment),
            requestTimeout: .milliseconds(Int64(powerdns.requestTimeoutSeconds * 1000)))
        do {
            return try PowerDNSProvider(configuration: configuration, logger: logger)
        } catch {
            throw error.chomError
        }
    }

    /// The publisher over `provider` with the fleet zone, TTL and direct zones of these settings.
    package func makePublisher(provider: any DNSProvider, logger: Logger) throws -> SiteDNSPublisher {
        guard let fleetZone else { throw CHOMError(.configuration, "dns.fleetZone is not set") }
        do {
            return try SiteDNSPublisher(
                provider: provider, fleetZone: fleetZone, ttl: ttlSeconds, directZones: directZones, logger: logger)
        } catch {
            throw error.chomError
        }
    }

    /// Provider and publisher together, or nil with DNS off.
    package func makePublisher(
        environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger
    ) throws -> SiteDNSPublisher? {
        guard let provider = try makeProvider(environment: environment, logger: logger) else { return nil }
        return try makePublisher(provider: provider, logger: logger)
    }

    /// At start, with `dns.powerdns.createZones`: creates the fleet zone and the listed direct
    /// zones as Native zones when they are missing. Returns the zones created.
    @discardableResult
    package func prepareZones(provider: any DNSProvider) async throws -> [String] {
        guard let powerdns, powerdns.createZones, let fleetZone, let provider = provider as? PowerDNSProvider else {
            return []
        }
        var created: [String] = []
        for zone in [fleetZone] + (directZones ?? [])
        where try await provider.ensureZone(zone, nameservers: powerdns.nameservers) {
            created.append(DNSName.fullyQualified(zone))
        }
        return created
    }
}
