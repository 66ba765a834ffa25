/// Where DNS records are written: an authoritative server's API (PowerDNS) today, RFC 2136 later.
///
/// Zones and names are fully qualified (`fleet.example.test.`); implementations accept them with
/// or without the trailing dot and in any case. Every failure is a `DNSError`.
package protocol DNSProvider: Sendable {
    /// Applies `changes` to `zone`, all or nothing where the provider allows it. An empty list
    /// sends nothing.
    func apply(_ changes: [DNSChange], zone: String) async throws

    /// Every record set of `zone` (SOA and NS included), for reconciliation and tests.
    func records(zone: String) async throws -> [DNSRecordSet]

    /// The record sets of `zone` at exactly these names (any type). A fleet zone holds one name
    /// per site, so providers that can look names up should not read the whole zone here.
    func records(zone: String, names: [String]) async throws -> [DNSRecordSet]

    /// The zones the provider serves, fully qualified.
    func zones() async throws -> [String]
}

extension DNSProvider {
    /// Reads the whole zone and keeps the sets at `names`.
    package func records(zone: String, names: [String]) async throws -> [DNSRecordSet] {
        let wanted = Set(names.map(DNSName.fullyQualified))
        return try await records(zone: zone).filter { wanted.contains($0.name) }
    }
}
