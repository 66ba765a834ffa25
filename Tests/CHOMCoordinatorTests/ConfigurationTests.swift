import CHOMCoordinator
import CHOMCore
import CHOMStore
import Foundation
import Testing

@Suite("Coordinator configuration")
final class ConfigurationTests {
    /// One directory per test, removed when the test's suite instance goes.
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chom-config-\(UUID())")

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func write(_ json: String) throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("\(UUID()).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("the example file in coordinator-config/ decodes to the built-in defaults")
    func exampleIsDefaults() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("coordinator-config/coordinator.json").path
        let loaded = try ConfigurationLoader.load(file: example, environment: [:])
        #expect(loaded == CoordinatorConfiguration())
    }

    @Test("the site lease must outlast two heartbeats and end before TTL + grace with the margin; the defaults hold")
    func siteLeaseRule() throws {
        let defaults = CoordinatorConfiguration()
        #expect(defaults.fleet.failoverEnabled)
        #expect(defaults.siteLeaseSecondsGranted == 40)
        #expect(CoordinatorConfiguration.Agents.leaseMargin(lease: 40, ttl: 30, grace: 30) > 17)
        let ok = try ConfigurationLoader.load(
            file: try write(#"{"agents": {"heartbeatIntervalSeconds": 1, "heartbeatTTLSeconds": 4, "failureGraceSeconds": 4, "siteLeaseSeconds": 5}}"#),
            environment: [:])
        #expect(ok.siteLeaseSecondsGranted == 5)
        let short = #expect(throws: CHOMError.self) {
            try ConfigurationLoader.load(file: try self.write(#"{"agents": {"siteLeaseSeconds": 15}}"#), environment: [:])
        }
        #expect(short?.message.contains("at least twice") == true, "\(short?.message ?? "")")
        let long = #expect(throws: CHOMError.self) {
            try ConfigurationLoader.load(file: try self.write(#"{"agents": {"siteLeaseSeconds": 58}}"#), environment: [:])
        }
        #expect(long?.message.contains("lease × 1.01 + 2 < TTL + grace") == true, "\(long?.message ?? "")")
        // Failover off: the agents are granted no lease.
        let off = try ConfigurationLoader.load(file: try write(#"{"fleet": {"failoverEnabled": false}}"#), environment: [:])
        #expect(off.siteLeaseSecondsGranted == 0)
    }

    @Test("file values override defaults, environment overrides the file")
    func precedence() throws {
        let path = try write(#"{"api": {"port": 9000}, "dataDirectory": "/srv/a", "dispatch": {"maxDeliveryAttempts": 3}}"#)
        let fileOnly = try ConfigurationLoader.load(file: path, environment: [:])
        #expect(fileOnly.api.port == 9000)
        #expect(fileOnly.api.host == "127.0.0.1")
        #expect(fileOnly.dataDirectory == "/srv/a")
        #expect(fileOnly.dispatch.maxDeliveryAttempts == 3)
        #expect(fileOnly.dispatch.siteLogsTimeoutSeconds == 15)
        let logs = try ConfigurationLoader.load(
            file: try write(#"{"dispatch": {"siteLogsTimeoutSeconds": 2.5}}"#), environment: [:])
        #expect(logs.dispatch.siteLogsTimeoutSeconds == 2.5)
        let withEnv = try ConfigurationLoader.load(
            file: path, environment: ["CHOM_API_PORT": "9100", "CHOM_DATA_DIR": "/srv/b", "CHOM_DATABASE_URL": "postgres://u@h/d"])
        #expect(withEnv.api.port == 9100)
        #expect(withEnv.dataDirectory == "/srv/b")
        #expect(withEnv.databaseURL == "postgres://u@h/d")
        let viaEnvPath = try ConfigurationLoader.load(file: nil, environment: ["CHOM_CONFIG": path])
        #expect(viaEnvPath.api.port == 9000)
    }

    @Test("unknown keys, wrong types and bad ports are clear errors", arguments: [
        (#"{"apiPort": 1}"#, "unknown key 'apiPort'"),
        (#"{"api": {"prot": 1}}"#, "unknown key 'api.prot'"),
        (#"{"api": {"port": "x"}}"#, "api.port"),
        (#"[1, 2]"#, "not a JSON object"),
    ])
    func invalid(json: String, message: String) throws {
        let path = try write(json)
        #expect {
            try ConfigurationLoader.load(file: path, environment: [:])
        } throws: { error in
            (error as? CHOMError)?.message.contains(message) == true
        }
    }

    @Test("a bad port in the environment is refused")
    func badEnvironmentPort() {
        #expect(throws: CHOMError.self) {
            try ConfigurationLoader.load(file: nil, environment: ["CHOM_GRPC_PORT": "70000"])
        }
    }

    @Test("identity settings decode over the defaults, and unknown auth keys are refused")
    func identitySettings() throws {
        let file = try write(#"{"auth": {"bcryptCost": 10, "sessionTTLSeconds": 900}, "audit": {"checkpointEveryEntries": 50}}"#)
        let configuration = try ConfigurationLoader.load(file: file, environment: [:])
        #expect(configuration.auth.bcryptCost == 10)
        #expect(configuration.auth.sessionTTLSeconds == 900)
        #expect(configuration.auth.rotationGraceSeconds == 60)
        #expect(configuration.audit.checkpointEveryEntries == 50)
        let bad = try write(#"{"auth": {"bcryptCosts": 10}}"#)
        #expect(throws: CHOMError.self) { try ConfigurationLoader.load(file: bad, environment: [:]) }
        #expect(throws: CHOMError.self) {
            try ConfigurationLoader.load(file: nil, environment: ["CHOM_BCRYPT_COST": "3"])
        }
    }

    @Test("the default plan is unmetered unless configured; a configured one is checked, and a bad one refused by name")
    func billingDefaultPlan() throws {
        let defaults = CoordinatorConfiguration()
        let unmetered = try defaults.billing.defaultPlan.record(now: Date())
        #expect(unmetered.code == "unmetered" && unmetered.plan.monthlyPrice.minor == 0)
        #expect(unmetered.plan.includedSites == .max && unmetered.storageHardLimitGB == .max)
        let loaded = try ConfigurationLoader.load(
            file: try write(#"{"billing": {"defaultPlan": {"code": "starter", "name": "Starter", "currency": "EUR", "monthlyPriceMinor": 900, "includedSites": 3, "overage": {"bandwidth_bytes": 5}}}}"#),
            environment: [:])
        let starter = try loaded.billing.defaultPlan.record(now: Date())
        #expect(starter.plan.includedSites == 3 && starter.plan.includedMembers == .max)
        #expect(starter.plan.overage[.bandwidthBytes]?.minor == 5)
        for (json, message) in [
            (#"{"billing": {"defaultPlan": {"code": "Bad Code", "name": "x", "currency": "EUR", "monthlyPriceMinor": 0}}}"#, "code"),
            (#"{"billing": {"defaultPlan": {"code": "a", "name": "x", "currency": "eur", "monthlyPriceMinor": 0}}}"#, "currency"),
            (#"{"billing": {"defaultPlan": {"code": "a", "name": "x", "currency": "EUR", "monthlyPriceMinor": -1}}}"#, "negative"),
            (#"{"billing": {"defaultPlan": {"code": "a", "name": "x", "currency": "EUR", "monthlyPriceMinor": 0, "overage": {"cpu": 1}}}}"#, "cpu"),
            (#"{"billing": {"defaultPlan": {"code": "a", "name": "x", "currency": "EUR", "monthlyPriceMinor": 0, "sites": 1}}}"#, "billing.defaultPlan.sites"),
            (#"{"billing": {"graceDays": -1}}"#, "billing.graceDays"),
            (#"{"billing": {"issuer": ""}}"#, "billing.issuer"),
            (#"{"billing": {"closeIntervalSeconds": 0}}"#, "closeIntervalSeconds"),
        ] {
            let error = #expect(throws: CHOMError.self) { try ConfigurationLoader.load(file: try write(json), environment: [:]) }
            #expect(error?.message.contains(message) == true, "\(json): \(error?.message ?? "")")
        }
    }
}
