import CHOMCoordinator
import CHOMCore
import Foundation
import Logging
import Testing

@Suite("Coordinator DNS configuration")
final class DNSConfigurationTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chom-dns-config-\(UUID())")
    let logger = Logger(label: "chom.test.dns-config")

    deinit { try? FileManager.default.removeItem(at: directory) }

    func write(_ text: String, name: String = "\(UUID()).json") throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("DNS is off by default, and off means no provider")
    func offByDefault() throws {
        let configuration = CoordinatorConfiguration()
        #expect(configuration.dns.provider == nil)
        #expect(configuration.dns.ttlSeconds == 60)
        #expect(!configuration.dns.isEnabled)
        #expect(try configuration.dns.makeProvider(environment: [:], logger: logger) == nil)
        #expect(try configuration.dns.makePublisher(environment: [:], logger: logger) == nil)
    }

    @Test("the example file's dns line is the default")
    func exampleLine() throws {
        let path = try write(
            #"{"dns": { "provider": null, "powerdns": null, "fleetZone": null, "ttlSeconds": 60, "directZones": null }}"#)
        #expect(try ConfigurationLoader.load(file: path, environment: [:]).dns == CoordinatorConfiguration.DNS())
    }

    @Test("a PowerDNS section decodes with its defaults and gives a provider and a publisher")
    func powerdns() throws {
        let keyFile = try write("file-key\n", name: "pdns.key")
        let path = try write(
            #"{"dns": {"provider": "powerdns", "fleetZone": "fleet.example.test.", "directZones": ["example.test"], "#
                + #""powerdns": {"apiURL": "http://127.0.0.1:8081", "apiKeyFile": "\#(keyFile)", "apiKey": "inline-key"}}}"#)
        let dns = try ConfigurationLoader.load(file: path, environment: [:]).dns
        #expect(dns.provider == "powerdns")
        #expect(dns.powerdns?.serverID == "localhost")
        #expect(dns.powerdns?.requestTimeoutSeconds == 10)
        #expect(dns.powerdns?.createZones == false)
        #expect(dns.ttlSeconds == 60)
        #expect(dns.directZones == ["example.test"])
        let powerdns = try #require(dns.powerdns)
        #expect(try powerdns.resolvedAPIKey(environment: ["CHOM_DNS_POWERDNS_API_KEY": "env-key"]) == "env-key")
        #expect(try powerdns.resolvedAPIKey(environment: [:]) == "file-key")
        var inline = powerdns
        inline.apiKeyFile = nil
        #expect(try inline.resolvedAPIKey(environment: [:]) == "inline-key")
        inline.apiKey = nil
        #expect(throws: CHOMError.self) { try inline.resolvedAPIKey(environment: [:]) }
        var unreadable = powerdns
        unreadable.apiKeyFile = directory.appendingPathComponent("missing.key").path
        let error = #expect(throws: CHOMError.self) { try unreadable.resolvedAPIKey(environment: [:]) }
        #expect(error?.code == .configuration)
        #expect(try dns.makeProvider(environment: [:], logger: logger) != nil)
        #expect(try dns.makePublisher(environment: [:], logger: logger) != nil)
    }

    @Test("unusable DNS settings are refused at load", arguments: [
        #"{"dns": {"provider": "route53", "fleetZone": "f.test"}}"#,
        #"{"dns": {"provider": "powerdns", "fleetZone": "f.test"}}"#,
        #"{"dns": {"provider": "powerdns", "powerdns": {"apiURL": "ftp://x"}, "fleetZone": "f.test"}}"#,
        #"{"dns": {"provider": "powerdns", "powerdns": {"apiURL": "http://127.0.0.1:8081"}}}"#,
        #"{"dns": {"provider": "powerdns", "powerdns": {"apiURL": "http://127.0.0.1:8081"}, "fleetZone": "bad..zone"}}"#,
        #"{"dns": {"provider": "powerdns", "powerdns": {"apiURL": "http://127.0.0.1:8081"}, "fleetZone": "f.test", "ttlSeconds": 0}}"#,
        #"{"dns": {"provider": "powerdns", "powerdns": {"apiURL": "http://127.0.0.1:8081"}, "fleetZone": "f.test", "directZones": ["a b"]}}"#,
        #"{"dns": {"provider": "powerdns", "powerdns": {"apiURL": "http://127.0.0.1:8081", "apiKeyFIle": "x"}, "fleetZone": "f.test"}}"#,
        #"{"dns": {"fleetzone": "f.test"}}"#,
    ])
    func refused(json: String) throws {
        let path = try write(json)
        let error = #expect(throws: CHOMError.self) { try ConfigurationLoader.load(file: path, environment: [:]) }
        #expect(error?.code == .configuration)
    }

    @Test("a provider without any key is refused when it is built, naming where the key goes")
    func missingKey() throws {
        var dns = CoordinatorConfiguration.DNS()
        dns.provider = "powerdns"
        dns.fleetZone = "fleet.test"
        dns.powerdns = .init(apiURL: "http://127.0.0.1:8081")
        let error = #expect(throws: CHOMError.self) { try dns.makeProvider(environment: [:], logger: self.logger) }
        #expect(error?.description.contains("CHOM_DNS_POWERDNS_API_KEY") == true)
    }
}
