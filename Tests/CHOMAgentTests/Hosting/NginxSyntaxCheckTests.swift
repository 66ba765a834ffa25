import CHOMAgent
import Foundation
import Testing

/// The rendered blocks pass the real `nginx -t`, inside a throwaway prefix: a temporary
/// nginx.conf (`events {}` and `http { … }`, pid and logs in the temporary directory), never the
/// host's configuration. Skipped when nginx (or, for TLS, openssl) is not installed.
@Suite("nginx -t accepts the rendered server blocks")
struct NginxSyntaxCheckTests {
    enum Specimen: String, CaseIterable, Sendable {
        case staticSite = "static"
        case php
        case app
        case suspended

        func spec(under site: URL, maintenance: URL, tls: SiteSpec.TLS?) -> SiteSpec {
            let kind: SiteSpec.Kind =
                switch self {
                case .staticSite, .suspended: .static
                case .php: .php(socketPath: "/run/php/chom_0123456789ab.sock")
                case .app: .app(port: 3000)
                }
            var spec = HostingFixtures.spec(kind, tls: tls, suspended: self == .suspended, under: site.path)
            spec.maintenancePage = maintenance.path
            return spec
        }
    }

    static let nginxMissing = "nginx is not installed: the nginx -t check of rendered configs is skipped"
    static let opensslMissing = "openssl is not installed: no certificate to check the TLS server blocks with"

    @Test("nginx -t accepts every kind without TLS, without a warning",
          .enabled(if: HostingFixtures.nginx != nil, Comment(rawValue: nginxMissing)), arguments: Specimen.allCases)
    func plain(specimen: Specimen) throws {
        try HostingFixtures.withTemporaryDirectory { directory in
            let result = try Self.check(specimen: specimen, tls: false, in: directory)
            #expect(result.status == 0, "nginx -t failed:\n\(result.output)")
            #expect(result.output.contains("test is successful"), "\(result.output)")
            #expect(!result.output.contains("[warn]"), "\(result.output)")
        }
    }

    @Test("nginx -t accepts every kind with TLS and a freshly minted certificate, without a warning",
          .enabled(if: HostingFixtures.nginx != nil, Comment(rawValue: nginxMissing)),
          .enabled(if: HostingFixtures.openssl != nil, Comment(rawValue: opensslMissing)), arguments: Specimen.allCases)
    func withTLS(specimen: Specimen) throws {
        try HostingFixtures.withTemporaryDirectory { directory in
            let result = try Self.check(specimen: specimen, tls: true, in: directory)
            #expect(result.status == 0, "nginx -t failed:\n\(result.output)")
            #expect(result.output.contains("test is successful"), "\(result.output)")
            #expect(!result.output.contains("[warn]"), "\(result.output)")
        }
    }

    @Test("the harness can fail: a server block nginx rejects fails nginx -t with nginx's message",
          .enabled(if: HostingFixtures.nginx != nil, Comment(rawValue: nginxMissing)))
    func rejectsBrokenBlock() throws {
        try HostingFixtures.withTemporaryDirectory { directory in
            let result = try Self.check(specimen: .staticSite, tls: false, in: directory) { text in
                text.replacingOccurrences(of: "    index index.html index.htm;", with: "    index_files on;")
            }
            #expect(result.status != 0)
            #expect(result.output.contains("unknown directive \"index_files\""), "\(result.output)")
        }
    }

    /// Writes the rendered block into `<directory>/nginx.conf` and runs `nginx -t` on it with
    /// `<directory>` as the prefix. `edit` alters the rendered text (to prove a failure shows).
    static func check(
        specimen: Specimen, tls: Bool, in directory: URL, edit: (String) -> String = { $0 }
    ) throws -> (status: Int32, output: String) {
        let nginx = try #require(HostingFixtures.nginx)
        let manager = FileManager.default
        let site = directory.appendingPathComponent("sites/example.com", isDirectory: true)
        try manager.createDirectory(at: site.appendingPathComponent("logs"), withIntermediateDirectories: true)
        try manager.createDirectory(at: site.appendingPathComponent("current/public"), withIntermediateDirectories: true)
        let maintenance = directory.appendingPathComponent("maintenance/503.html")
        try manager.createDirectory(at: maintenance.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("<h1>Down for maintenance</h1>\n".utf8).write(to: maintenance)

        var certificate: SiteSpec.TLS?
        if tls {
            let openssl = try #require(HostingFixtures.openssl)
            let tlsDirectory = directory.appendingPathComponent("tls", isDirectory: true)
            try manager.createDirectory(at: tlsDirectory, withIntermediateDirectories: true)
            let pair = SiteSpec.TLS(
                certificatePath: tlsDirectory.appendingPathComponent("fullchain.pem").path,
                keyPath: tlsDirectory.appendingPathComponent("key.pem").path)
            let minted = try HostingFixtures.run(openssl, [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                "-subj", "/CN=x", "-keyout", pair.keyPath, "-out", pair.certificatePath,
            ])
            try #require(minted.status == 0, "openssl failed:\n\(minted.output)")
            certificate = pair
        }

        // The php location includes fastcgi_params and http includes mime.types, both relative
        // to the configuration's directory: copy the distribution's, or write stand-ins.
        let conf = directory.appendingPathComponent("conf", isDirectory: true)
        try manager.createDirectory(at: conf, withIntermediateDirectories: true)
        for (name, fallback) in [
            ("fastcgi_params", "fastcgi_param QUERY_STRING $query_string;\n"),
            ("mime.types", "types {\n    text/html html;\n}\n"),
        ] {
            let installed = "/etc/nginx/" + name
            if manager.isReadableFile(atPath: installed) {
                try manager.copyItem(atPath: installed, toPath: conf.appendingPathComponent(name).path)
            } else {
                try Data(fallback.utf8).write(to: conf.appendingPathComponent(name))
            }
        }

        let version = try HostingFixtures.run(nginx, ["-v"]).output
        var configuration = NginxSiteConfig.Configuration()
        configuration.http2 = .forNginxVersion(version)
        let block = edit(try NginxSiteConfig.render(
            specimen.spec(under: site, maintenance: maintenance, tls: certificate), configuration: configuration))
        let indented = block.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : "    " + $0 }.joined(separator: "\n")
        let text = """
            pid \(directory.path)/nginx.pid;
            error_log \(directory.path)/error.log;
            events {}
            http {
                include mime.types;
                server_names_hash_bucket_size 128;
            \(indented)
            }

            """
        let file = conf.appendingPathComponent("nginx.conf")
        try Data(text.utf8).write(to: file)
        return try HostingFixtures.run(nginx, [
            "-t", "-c", file.path, "-p", directory.path + "/", "-e", directory.path + "/startup-error.log",
        ])
    }
}
