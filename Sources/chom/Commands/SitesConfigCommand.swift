import ArgumentParser
import CHOMAPI
import Foundation

extension SitesCommand {
    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "config",
            abstract: "Set a site's whole configuration and apply it on its agent.",
            discussion: """
                Replaces the configuration: what a flag does not give takes its default (a static \
                site, no aliases, no hooks…). The TLS certificate is kept unless --tls-cert and \
                --tls-key (files, PEM) replace it or --no-tls removes it; the key is stored sealed and \
                never shown again. --file reads the whole configuration as JSON (the API's \
                SiteConfigRequest) instead of the flags. Prints the site and follows the configure \
                task (--no-follow returns once it is queued).

                Example:
                  chom sites config example.com --kind php --alias www.example.com \\
                      --shared storage/ --shared .env --hook 'build=composer install --no-dev' \\
                      --health-path /health --keep 5
                  chom sites config app.example.com --kind app --app-port 3000 --app-command 'node server.js'
                  chom sites config example.com --file site.json
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The site's domain or ID.")
        var site: String

        @Option(help: ArgumentHelp("static, php or app (default static).", valueName: "kind"))
        var kind: String?

        @Option(name: .customLong("alias"), help: ArgumentHelp("Another domain of the site (repeatable).", valueName: "domain"))
        var aliases: [String] = []

        @Option(help: ArgumentHelp("For --kind app: the port the process listens on (1024-65535).", valueName: "port"))
        var appPort: Int?

        @Option(help: ArgumentHelp("For --kind app: its command line.", valueName: "command"))
        var appCommand: String?

        @Option(name: .customLong("shared"), help: ArgumentHelp("A path kept across releases (repeatable).", valueName: "path"))
        var sharedPaths: [String] = []

        @Option(
            name: .customLong("hook"),
            help: ArgumentHelp("A build hook NAME=COMMAND, run in order (repeatable; at most 20).", valueName: "name=command"))
        var hooks: [String] = []

        @Option(help: ArgumentHelp("Timeout of each hook in seconds (1-3600; default 600).", valueName: "seconds"))
        var hookTimeout: Int?

        @Option(help: ArgumentHelp("Path checked after each deploy, e.g. /health.", valueName: "path"))
        var healthPath: String?

        @Option(help: ArgumentHelp("The status the health check expects (default 200).", valueName: "status"))
        var healthStatus: Int?

        @Option(help: ArgumentHelp("The directory of a release nginx serves (default public).", valueName: "path"))
        var publicDir: String?

        @Option(help: ArgumentHelp("Releases kept on the agent (1-50; default 5).", valueName: "n"))
        var keep: Int?

        @Option(help: ArgumentHelp("A PEM certificate chain file (with --tls-key).", valueName: "file"))
        var tlsCert: String?

        @Option(help: ArgumentHelp("The PEM private key file of the certificate.", valueName: "file"))
        var tlsKey: String?

        @Flag(help: "Remove the site's custom certificate.")
        var noTls = false

        @Option(help: ArgumentHelp("Read the whole configuration from this JSON file.", valueName: "file"))
        var file: String?

        @Flag(help: "Return once the configure task is queued instead of following it.")
        var noFollow = false

        @OptionGroup var follow: FollowOptions

        func validate() throws {
            if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("give --tls-cert and --tls-key together") }
            if noTls, tlsCert != nil { throw ValidationError("--no-tls and --tls-cert exclude each other") }
            for hook in hooks where !hook.contains("=") { throw ValidationError("--hook takes NAME=COMMAND, got '\(hook)'") }
        }

        func request() throws -> SiteConfigRequest {
            if let file {
                do {
                    return try APIJSON.decoder().decode(SiteConfigRequest.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
                } catch {
                    throw CLIError("cannot read \(file) as a site configuration (JSON like the API's SiteConfigRequest): \(error)")
                }
            }
            var request = SiteConfigRequest(
                kind: kind ?? "static", aliases: aliases, appPort: appPort, appCommand: appCommand, sharedPaths: sharedPaths,
                hooks: hooks.map { hook in
                    let parts = hook.split(separator: "=", maxSplits: 1)
                    return BuildHookBody(name: String(parts[0]), command: String(parts.count > 1 ? parts[1] : ""), timeoutSeconds: hookTimeout)
                },
                healthCheck: healthPath.map { HealthCheckBody(path: $0, expectedStatus: healthStatus) },
                publicDirectory: publicDir, keepReleases: keep)
            if noTls { (request.tlsCertificate, request.tlsPrivateKey) = ("", "") }
            if let tlsCert, let tlsKey {
                request.tlsCertificate = try Self.read(tlsCert)
                request.tlsPrivateKey = try Self.read(tlsKey)
            }
            return request
        }

        func run() async throws {
            let client = try await global.client()
            let answer = try await client.configureSite(site, try request())
            if !global.json { Console.table(SitesCommand.details(answer.site)) }
            if noFollow {
                if global.json { try Console.json(answer) } else { Console.out("configure task \(answer.task.id) queued") }
                return
            }
            try await follow.follow(answer.task, client: client, global: global)
        }

        static func read(_ path: String) throws -> String {
            do {
                return try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw CLIError("cannot read \(path)")
            }
        }
    }
}
