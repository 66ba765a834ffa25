package import AsyncHTTPClient
import CHOMCore
package import Foundation
package import Logging

/// Records in a PowerDNS Authoritative server, through its HTTP API v1 (`X-API-Key`).
///
/// Changes to one zone go in one `PATCH /servers/{server}/zones/{zone}` with RRsets of
/// changetype REPLACE or DELETE, which PowerDNS applies in one transaction and which purges its
/// caches for the zone; reads use `GET …/zones/{zone}`, or `GET …/search-data` for a few names so
/// that a fleet zone of many sites is not read whole for one site.
package struct PowerDNSProvider: DNSProvider {
    package struct Configuration: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
        /// The webserver's base URL, e.g. `http://127.0.0.1:8081`.
        package var apiURL: URL
        /// The `{server_id}` of the API paths; PowerDNS Authoritative only knows `localhost`.
        package var serverID: String
        package var apiKey: String
        /// Deadline of each request, connection included.
        package var requestTimeout: Duration
        /// Largest answer read (a zone listing); larger is `.invalidResponse`.
        package var maximumResponseBytes: Int

        package init(
            apiURL: URL, serverID: String = "localhost", apiKey: String, requestTimeout: Duration = .seconds(10),
            maximumResponseBytes: Int = 64 << 20
        ) {
            self.apiURL = apiURL
            self.serverID = serverID
            self.apiKey = apiKey
            self.requestTimeout = requestTimeout
            self.maximumResponseBytes = maximumResponseBytes
        }

        /// Without the key, so that logging or printing a configuration never shows it.
        package var description: String { "PowerDNS \(apiURL.absoluteString) server \(serverID)" }
        package var debugDescription: String { description }
    }

    package let configuration: Configuration
    let http: HTTPClient
    let logger: Logger
    /// `<apiURL>/api/v1/servers/<serverID>`.
    let base: String

    /// `httpClient` defaults to the process-wide shared client, which needs no shutdown; a client
    /// passed in stays the caller's to shut down. `.configuration` for an unusable URL or server id
    /// or an empty key.
    package init(configuration: Configuration, httpClient: HTTPClient = .shared, logger: Logger) throws(DNSError) {
        let scheme = configuration.apiURL.scheme?.lowercased()
        guard scheme == "http" || scheme == "https", configuration.apiURL.host != nil else {
            throw DNSError(.configuration, "the PowerDNS API URL must be http(s)://HOST[:PORT]")
        }
        guard !configuration.serverID.isEmpty,
            configuration.serverID.utf8.allSatisfy({ $0 < 0x80 && (Self.idCharacters.contains($0)) })
        else {
            throw DNSError(.configuration, "the PowerDNS server id must be letters, digits, '.', '_' or '-'")
        }
        guard !configuration.apiKey.isEmpty else { throw DNSError(.configuration, "the PowerDNS API key is empty") }
        self.configuration = configuration
        self.http = httpClient
        self.logger = logger
        var root = configuration.apiURL.absoluteString
        while root.hasSuffix("/") { root.removeLast() }
        self.base = root + "/api/v1/servers/" + configuration.serverID
    }

    private static let idCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".utf8)

    package func apply(_ changes: [DNSChange], zone: String) async throws {
        guard !changes.isEmpty else { return }
        let zone = try DNSName.validatedZone(zone)
        let body = try encode(PowerDNSWire.Patch(rrsets: changes.map(PowerDNSWire.RRSetChange.init)))
        _ = try await send(.patchZone, "PATCH", base + "/zones/" + zone, body: body, subject: zone)
        logger.debug("dns changes applied", metadata: [LogKey.dnsZone: "\(zone)", LogKey.dnsChanges: "\(changes.count)"])
    }

    package func records(zone: String) async throws -> [DNSRecordSet] {
        let zone = try DNSName.validatedZone(zone)
        let answer = try await send(.getZone, "GET", base + "/zones/" + zone, subject: zone)
        let document = try decode(PowerDNSWire.Zone.self, answer, operation: .getZone, subject: zone)
        return (document.rrsets ?? []).compactMap(\.recordSet).sorted { $0.key < $1.key }
    }

    /// One `search-data` lookup per name (exact, names hold no wildcard); falls back to reading
    /// the zone when a lookup hits the result cap.
    package func records(zone: String, names: [String]) async throws -> [DNSRecordSet] {
        let zone = try DNSName.validatedZone(zone)
        let cap = 1_000
        let wanted = Set(names.map(DNSName.fullyQualified))
        var values: [DNSRecordSet.Key: [String]] = [:]
        var ttls: [DNSRecordSet.Key: Int] = [:]
        for name in wanted.sorted() where DNSName.isInside(name, zone: zone) {
            _ = try DNSName.validatedZone(name)
            let query = String(name.dropLast())
            let answer = try await send(
                .searchData, "GET", base + "/search-data?q=\(query)&max=\(cap)&object_type=record", subject: name)
            let results = try decode([PowerDNSWire.SearchResult].self, answer, operation: .searchData, subject: name)
            if results.count >= cap {
                return try await records(zone: zone).filter { wanted.contains($0.name) }
            }
            for result in results where result.object_type == "record" && result.disabled != true {
                guard let resultName = result.name, let type = result.type, let content = result.content,
                    DNSName.fullyQualified(resultName) == name,
                    result.zone.map({ DNSName.fullyQualified($0) == zone }) ?? true
                else { continue }
                let key = DNSRecordSet.Key(name: name, type: DNSRecordType(rawValue: type))
                values[key, default: []].append(content)
                ttls[key] = result.ttl ?? 0
            }
        }
        return values.keys.sorted().map { key in
            DNSRecordSet(name: key.name, type: key.type, ttl: ttls[key] ?? 0, values: values[key] ?? [])
        }
    }

    package func zones() async throws -> [String] {
        let answer = try await send(.listZones, "GET", base + "/zones", subject: "the server")
        let list = try decode([PowerDNSWire.ZoneSummary].self, answer, operation: .listZones, subject: "the server")
        return list.map { DNSName.fullyQualified($0.name) }.sorted()
    }

    /// Creates `zone` as a Native zone (PowerDNS adds its SOA) when it does not exist; returns
    /// whether it was created. A zone created meanwhile by someone else counts as existing.
    @discardableResult
    package func ensureZone(_ zone: String, nameservers: [String] = []) async throws -> Bool {
        let zone = try DNSName.validatedZone(zone)
        if try await zoneExists(zone) { return false }
        var servers: [String] = []
        for server in nameservers { servers.append(try DNSName.validated(server, what: "nameserver")) }
        let body = try encode(PowerDNSWire.NewZone(name: zone, kind: "Native", nameservers: servers))
        do {
            _ = try await send(.createZone, "POST", base + "/zones", body: body, subject: zone)
        } catch {
            // Created meanwhile by another replica: the zone exists, which is what was asked.
            if (error as? DNSError)?.code == .conflict { return false }
            throw error
        }
        logger.info("dns zone created", metadata: [LogKey.dnsZone: "\(zone)"])
        return true
    }

    /// Whether PowerDNS has `zone` (fully qualified), without reading its records.
    package func zoneExists(_ zone: String) async throws -> Bool {
        let zone = try DNSName.validatedZone(zone)
        do {
            _ = try await send(.getZone, "GET", base + "/zones/" + zone + "?rrsets=false", subject: zone)
            return true
        } catch {
            if (error as? DNSError)?.code == .zoneNotFound { return false }
            throw error
        }
    }

    private func encode(_ value: some Encodable) throws -> Data {
        do { return try JSONEncoder().encode(value) } catch {
            throw DNSError(.internal, "cannot encode a PowerDNS request", underlying: "\(error)")
        }
    }
}
