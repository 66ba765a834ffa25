import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMTesting
import Foundation
import Testing

@Suite("Site tasks through a real nginx", .enabled(if: LiveSites.isRoot && TestNginx.binary != nil, Comment(rawValue: LiveSites.rootOnly)))
struct HostedSiteTaskTests {
    @Test("suspend serves the 503 maintenance page for every path; resume serves the site again")
    func suspendResume() async throws {
        try await HostedSiteWorld.with { world in
            let config = HostedSiteWorld.config("pause.test")
            let deployed = await world.deploy(try world.deployTask(config, files: ["public/index.html": "live"]))
            #expect(deployed.outcome == .succeeded, "\(deployed.message)")
            var suspend = Chom_Agent_V1_SuspendSiteTask()
            suspend.site = config
            suspend.suspended = true
            let suspended = await world.sites.suspend(suspend) { _, _ in }
            #expect(suspended.outcome == .succeeded, "\(suspended.message)")
            let down = try await LiveSites.eventually(
                HealthCheck(port: world.nginx.port), host: "pause.test", contains: "maintenance", nginx: world.nginx)
            #expect(down.status == 503)
            #expect(try await world.get("pause.test", path: "/any/path").status == 503)
            suspend.suspended = false
            let resumed = await world.sites.suspend(suspend) { _, _ in }
            #expect(resumed.outcome == .succeeded, "\(resumed.message)")
            let up = try await LiveSites.eventually(
                HealthCheck(port: world.nginx.port), host: "pause.test", contains: "live", nginx: world.nginx)
            #expect(up.status == 200)
        }
    }

    @Test("a configuration nginx rejects is rolled back; the task fails with nginx's own message; the site keeps serving")
    func nginxRejects() async throws {
        try await HostedSiteWorld.with { world in
            var config = HostedSiteWorld.config("tls.test")
            let deployed = await world.deploy(try world.deployTask(config, files: ["public/index.html": "still here"]))
            #expect(deployed.outcome == .succeeded, "\(deployed.message)")
            config.tls.certificateChainPem = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
            config.tls.privateKeyPem = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
            var configure = Chom_Agent_V1_ConfigureSiteTask()
            configure.site = config
            let refused = await world.sites.configure(configure) { _, _ in }
            #expect(refused.outcome == .failed)
            #expect(refused.message.contains("nginx: [emerg]"), "\(refused.message)")
            let conf = try String(contentsOfFile: world.hosting.nginx.file(for: "tls.test"), encoding: .utf8)
            #expect(!conf.contains("ssl_certificate"))
            #expect(try await world.get("tls.test").body == "still here")
        }
    }

    @Test("an app site: nginx proxies to the process the agent runs as the site user")
    func appSite() async throws {
        try await HostedSiteWorld.with { world in
            let port = try FreePort.next()
            let config = HostedSiteWorld.config("app.test") { config in
                config.kind = .app
                config.appPort = UInt32(port)
                config.appCommand = "exec python3 -m http.server $PORT --bind 127.0.0.1 --directory public"
                config.healthCheck.timeoutMs = 10_000
            }
            let result = await world.deploy(try world.deployTask(config, files: ["public/index.html": "from the app"]))
            #expect(result.outcome == .succeeded, "\(result.message)")
            #expect(try await world.get("app.test").body == "from the app")
            let owner = try String(contentsOfFile: "/proc/\(try Self.listener(port))/status", encoding: .utf8)
                .split(separator: "\n").first { $0.hasPrefix("Uid:") }
            let site = try HostedSite(config)
            let uid = try #require(SiteAccount.lookup(site.user.rawValue)).uid
            #expect(owner?.split(separator: "\t").dropFirst().first.map(String.init) == "\(uid)")
        }
    }

    /// The pid of the process listening on 127.0.0.1:`port` (from `ss`).
    static func listener(_ port: Int) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ss")
        process.arguments = ["-Hltnp", "sport = :\(port)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard let range = text.range(of: "pid="), let pid = Int(text[range.upperBound...].prefix { $0.isNumber }) else {
            throw CHOMError(.notFound, "nothing listens on \(port): \(text)")
        }
        return pid
    }
}
