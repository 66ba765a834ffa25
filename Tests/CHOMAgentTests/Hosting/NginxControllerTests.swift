import CHOMAgent
import CHOMCore
import CHOMTesting
import Foundation
import Glibc
import Testing

/// Against a real nginx master (TestNginx): install, refuse with rollback, remove. The sites
/// here are plain root-owned directories; user separation is tested in SiteIsolationTests.
@Suite("NginxController changes a running nginx and never leaves a configuration it refuses",
       .enabled(if: TestNginx.binary != nil, "nginx is not installed"))
struct NginxControllerTests {
    /// A static site under `root`: `current -> releases/r1`, `public/index.html` holding `text`.
    static func site(_ domain: String, under root: URL, text: String) throws -> SiteLayout {
        let layout = SiteLayout(sitesRoot: root, domain: domain)
        try layout.prepare()
        // Without hosting the skeleton is root's 0750; here nginx's workers read it without a group.
        chmod(layout.site.path, 0o755)
        let public_ = layout.release("r1").appendingPathComponent("public", isDirectory: true)
        try FileManager.default.createDirectory(at: public_, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: layout.site.appendingPathComponent("logs"), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: public_.appendingPathComponent("index.html"))
        try layout.switchCurrent(to: "r1")
        return layout
    }

    static func config(_ domain: String, _ layout: SiteLayout, _ nginx: TestNginx) throws -> String {
        let logs = layout.sitesRoot.appendingPathComponent(".logs/\(domain)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let spec = SiteSpec(domain: domain, kind: .static, layout: layout, logs: logs, maintenancePage: layout.site.path + "/503.html")
        return try NginxSiteConfig.render(spec, configuration: nginx.siteConfiguration)
    }

    @Test("an installed static site is served; a block nginx refuses is rolled back with nginx's [emerg] message")
    func installRefuseRemove() async throws {
        try await TestNginx.with { nginx in
            let root = try TemporaryDirectory.make(prefix: "h-www")
            defer { TemporaryDirectory.remove(root) }
            let controller = NginxController(configuration: nginx.controllerConfiguration)
            let check = HealthCheck(port: nginx.port)
            let layout = try Self.site("a.test", under: root, text: "hello from a\n")
            let good = try Self.config("a.test", layout, nginx)

            #expect(try await controller.install(domain: "a.test", config: good) == .reloaded)
            let served = try await LiveSites.eventually(check, host: "a.test", contains: "hello from a", nginx: nginx)
            #expect(served.status == 200 && served.body == "hello from a\n")

            // Rendered, then broken: nginx -t refuses, the good file comes back.
            let broken = good.replacingOccurrences(of: "    index index.html index.htm;", with: "    index_files on;")
            let error = await #expect(throws: CHOMError.self) {
                try await controller.install(domain: "a.test", config: broken)
            }
            #expect(error?.message.contains("[emerg] unknown directive \"index_files\"") == true, "\(String(describing: error))")
            #expect(error?.message.contains("the previous configuration was kept") == true)
            let onDisk = try String(contentsOfFile: controller.file(for: "a.test"), encoding: .utf8)
            #expect(onDisk == good)
            try await controller.check()
            #expect(try await check.check(host: "a.test").body == "hello from a\n")

            // A new domain nginx refuses leaves no file behind.
            await #expect(throws: CHOMError.self) {
                try await controller.install(domain: "b.test", config: "server { bogus_directive; }\n")
            }
            #expect(!FileManager.default.fileExists(atPath: try controller.file(for: "b.test")))

            // Removal: the default server (404) answers for the name again.
            #expect(try await controller.remove(domain: "a.test") == .reloaded)
            #expect(!FileManager.default.fileExists(atPath: try controller.file(for: "a.test")))
            let gone = try await LiveSites.eventually(check, host: "a.test", contains: "404", nginx: nginx)
            #expect(gone.status == 404)
            #expect(try await controller.remove(domain: "a.test") == .unchanged)
        }
    }

    @Test("concurrent installs of many sites are serialized and all served")
    func concurrentInstalls() async throws {
        try await TestNginx.with { nginx in
            let root = try TemporaryDirectory.make(prefix: "h-www")
            defer { TemporaryDirectory.remove(root) }
            let controller = NginxController(configuration: nginx.controllerConfiguration)
            let domains = (1...6).map { "site\($0).test" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for domain in domains {
                    let config = try Self.config(domain, try Self.site(domain, under: root, text: domain), nginx)
                    group.addTask { _ = try await controller.install(domain: domain, config: config) }
                }
                try await group.waitForAll()
            }
            let check = HealthCheck(port: nginx.port)
            for domain in domains {
                #expect(try await LiveSites.eventually(check, host: domain, contains: domain, nginx: nginx).body == domain)
            }
        }
    }

    @Test("with no master running the change is checked and kept, and the outcome says notRunning")
    func notRunning() async throws {
        let nginx = try await TestNginx.start()
        var configuration = nginx.controllerConfiguration
        let sites = try TemporaryDirectory.make(prefix: "h-www")
        defer { TemporaryDirectory.remove(sites) }
        configuration.pidFile = sites.appendingPathComponent("no.pid").path
        let controller = NginxController(configuration: configuration)
        let layout = try Self.site("c.test", under: sites, text: "c")
        let outcome = try await controller.install(domain: "c.test", config: try Self.config("c.test", layout, nginx))
        await nginx.stop()
        #expect(outcome == .notRunning)
    }

    @Test("a domain that is not a DNS name never becomes a path", arguments: ["../etc/passwd", "A.test", "a test", ""])
    func refusesBadDomain(domain: String) async {
        let controller = NginxController()
        await #expect(throws: CHOMError.self) { try await controller.install(domain: domain, config: "") }
    }
}
