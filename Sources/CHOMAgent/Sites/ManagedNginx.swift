package import Foundation
import Glibc

/// An nginx master the agent runs itself, under its own prefix directory (configuration, pid,
/// logs, temp paths), listening on one port where a default server answers 404, with
/// `sites/*.conf` included for ``NginxController`` to manage. Workers run as www-data when the
/// agent runs as root, as nginx does on a host. For a machine that runs several agents (the
/// demo) and for tests; a VPS uses the system's nginx instead.
package final class ManagedNginx: Sendable {
    package static let binary: String? = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    package let directory: URL
    package let port: Int
    package let sitesDirectory: URL
    package let mainConfig: URL
    package let pidFile: URL
    package let errorLog: URL

    /// The TLS port sites with a certificate listen on.
    package let httpsPort: Int

    package init(directory: URL, port: Int, httpsPort: Int? = nil) {
        self.directory = directory
        self.port = port
        self.httpsPort = httpsPort ?? (port == 65_535 ? 65_534 : port + 1)
        sitesDirectory = directory.appendingPathComponent("sites", isDirectory: true)
        mainConfig = directory.appendingPathComponent("conf/nginx.conf")
        pidFile = directory.appendingPathComponent("nginx.pid")
        errorLog = directory.appendingPathComponent("logs/error.log")
    }

    /// What a ``NginxController`` needs to manage this nginx.
    package var controllerConfiguration: NginxController.Configuration {
        var configuration = NginxController.Configuration()
        configuration.binary = Self.binary ?? "/usr/sbin/nginx"
        configuration.mainConfig = mainConfig.path
        configuration.sitesDirectory = sitesDirectory.path
        configuration.prefix = directory.path
        configuration.startupErrorLog = directory.appendingPathComponent("logs/startup.log").path
        configuration.pidFile = pidFile.path
        return configuration
    }

    /// The host-wide settings for ``NginxSiteConfig`` that put a site on this nginx's port.
    package var siteConfiguration: NginxSiteConfig.Configuration {
        var configuration = NginxSiteConfig.Configuration()
        configuration.httpPort = port
        configuration.httpsPort = httpsPort
        return configuration
    }

    /// Writes the configuration under `directory` and starts the master; returns once it answers.
    package static func start(directory: URL, port: Int, httpsPort: Int? = nil) async throws -> ManagedNginx {
        guard let binary else { throw ManagedNginxError(message: "nginx is not installed") }
        let nginx = ManagedNginx(directory: directory, port: port, httpsPort: httpsPort)
        // A master left by an earlier run of the same agent (killed hard) holds the port.
        if let stale = PidFile.runningProcess(nginx.pidFile.path) { kill(stale, SIGQUIT) }
        do {
            try nginx.writeConfiguration()
            let outcome = try await CommandRunner().run(
                CommandRunner.Command(binary, ["-c", nginx.mainConfig.path, "-p", directory.path + "/",
                    "-e", nginx.controllerConfiguration.startupErrorLog!], timeout: .seconds(20), killLeftovers: false))
            guard outcome.succeeded else { throw ManagedNginxError(message: "nginx did not start: \(outcome.outputText)") }
            try await nginx.waitUntilServing()
            return nginx
        } catch {
            await nginx.stop()
            throw error
        }
    }

    /// Waits until the master has exactly one worker and none is shutting down: after a reload
    /// the old workers keep accepting for a moment, so a request right after one may still see
    /// the old configuration. Call it once the new configuration has been seen served.
    package func waitForWorkers() async throws {
        guard let master = PidFile.runningProcess(pidFile.path) else { return }
        for _ in 0..<200 {
            let workers = Self.children(of: master)
            if workers.count == 1, !workers[0].contains("shutting down") { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw ManagedNginxError(message: "nginx workers did not settle after a reload")
    }

    /// The command lines of `parent`'s children, from /proc.
    static func children(of parent: Int32) -> [String] {
        NginxProcesses.children(of: parent).map(\.title)
    }

    /// Fast shutdown (SIGTERM), waits until the master has removed its pid file, deletes the prefix.
    package func stop() async {
        if let pid = PidFile.runningProcess(pidFile.path) {
            kill(pid, SIGTERM)
            for _ in 0..<200 where FileManager.default.fileExists(atPath: pidFile.path) {  // not a tenant path: /proc, /etc/nginx and the agent's own nginx directory
                try? await Task.sleep(for: .milliseconds(25))
            }
            if FileManager.default.fileExists(atPath: pidFile.path) { kill(pid, SIGKILL) }  // not a tenant path: /proc, /etc/nginx and the agent's own nginx directory
        }
    }

    private func writeConfiguration() throws {
        let manager = FileManager.default
        let conf = mainConfig.deletingLastPathComponent()
        for sub in [conf, sitesDirectory, errorLog.deletingLastPathComponent(), directory.appendingPathComponent("tmp")] {
            try manager.createDirectory(at: sub, withIntermediateDirectories: true)  // not a tenant path: /proc, /etc/nginx and the agent's own nginx directory
        }
        for (name, fallback) in [
            ("fastcgi_params", "fastcgi_param QUERY_STRING $query_string;\nfastcgi_param REQUEST_METHOD $request_method;\n"),
            ("mime.types", "types {\n    text/html html;\n}\n"),
        ] {
            let text = (try? String(contentsOfFile: "/etc/nginx/" + name, encoding: .utf8)) ?? fallback  // not a tenant path: /proc, /etc/nginx and the agent's own nginx directory
            try Data(text.utf8).write(to: conf.appendingPathComponent(name))  // not a tenant path: /proc, /etc/nginx and the agent's own nginx directory
        }
        let dir = directory.path
        let user = getuid() == 0 ? "user www-data;\n" : ""
        let text = """
            \(user)worker_processes 1;
            daemon on;
            pid \(pidFile.path);
            error_log \(errorLog.path);
            events { worker_connections 64; }
            http {
                include mime.types;
                default_type application/octet-stream;
                access_log off;
                server_names_hash_bucket_size 128;
                client_body_temp_path \(dir)/tmp/body;
                proxy_temp_path \(dir)/tmp/proxy;
                fastcgi_temp_path \(dir)/tmp/fastcgi;
                server {
                    listen \(port) default_server;
                    return 404;
                }
                include \(sitesDirectory.path)/*.conf;
            }

            """
        try Data(text.utf8).write(to: mainConfig)  // not a tenant path: /proc, /etc/nginx and the agent's own nginx directory
    }

    private func waitUntilServing() async throws {
        let probe = HealthCheck(port: port, expectedStatus: 404, timeout: .seconds(1))
        var last = ""
        for _ in 0..<100 {
            do {
                _ = try await probe.check(host: "default.invalid")
                return
            } catch {
                last = error.description
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ManagedNginxError(message: "nginx does not answer on port \(port): \(last)")
    }
}

package struct ManagedNginxError: Error, CustomStringConvertible {
    package var message: String
    package init(message: String) { self.message = message }
    package var description: String { message }
}
