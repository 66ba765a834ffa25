package import CHOMAgent
package import Foundation

/// A real nginx master for live tests (``ManagedNginx`` under a temporary directory, on a free
/// port). Start with ``start()``, always ``stop()`` (or use ``with(_:)``).
package final class TestNginx: Sendable {
    package static var binary: String? { ManagedNginx.binary }

    package let nginx: ManagedNginx

    private init(nginx: ManagedNginx) {
        self.nginx = nginx
    }

    package var directory: URL { nginx.directory }
    package var port: Int { nginx.port }
    package var sitesDirectory: URL { nginx.sitesDirectory }
    package var mainConfig: URL { nginx.mainConfig }
    package var pidFile: URL { nginx.pidFile }
    package var errorLog: URL { nginx.errorLog }
    package var controllerConfiguration: NginxController.Configuration { nginx.controllerConfiguration }
    package var siteConfiguration: NginxSiteConfig.Configuration { nginx.siteConfiguration }

    /// Turns hosting on in an agent's configuration, on this nginx (for `TestAgent`'s `configure`).
    package func host(_ configuration: inout AgentConfiguration) {
        var hosting = HostingConfiguration(stateDirectory: configuration.stateDirectory, sitesRoot: configuration.sitesRoot)
        hosting.nginx = controllerConfiguration
        hosting.site = siteConfiguration
        hosting.siteUIDs = SiteUIDs(
            file: configuration.stateDirectory.appendingPathComponent("site-uids.next"), range: TestSiteUIDs.nextRange())
        configuration.hosting = hosting
    }

    package static func start() async throws -> TestNginx {
        let directory = try TemporaryDirectory.make(prefix: "h-nginx")
        do {
            return TestNginx(nginx: try await ManagedNginx.start(directory: directory, port: try FreePort.next()))
        } catch {
            TemporaryDirectory.remove(directory)
            throw error
        }
    }

    /// Runs `body` with a started nginx and stops it afterwards, whether `body` throws or not.
    package static func with<T>(_ body: (TestNginx) async throws -> T) async throws -> T {
        let nginx = try await start()
        do {
            let result = try await body(nginx)
            await nginx.stop()
            return result
        } catch {
            await nginx.stop()
            throw error
        }
    }

    package func waitForWorkers() async throws {
        try await nginx.waitForWorkers()
    }

    package func stop() async {
        await nginx.stop()
        TemporaryDirectory.remove(nginx.directory)
    }
}
