import CHOMCore
package import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Debian's rsyslog (`scripts/install-deps.sh`) for one test: `imtcp` on a loopback port of its
/// own (RFC 6587 octet-counted framing, as the agent sends), writing each message it receives as
/// one line `MSGID STRUCTURED-DATA MSG` into a file the test reads. Started as a process group
/// and stopped, its directory removed, when the body returns or throws. With `tls`, it takes
/// syslog over TLS (RFC 5425) through its gtls driver, with the given certificate.
package struct RsyslogServer: Sendable {
    package let port: Int
    package let received: URL

    package static let binary = "/usr/sbin/rsyslogd"
    package static var available: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    /// rsyslog's TLS driver, from Debian's rsyslog-gnutls.
    package static var tlsAvailable: Bool {
        FileManager.default.fileExists(atPath: "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so")
            || FileManager.default.fileExists(atPath: "/usr/lib/aarch64-linux-gnu/rsyslog/lmnsd_gtls.so")
    }

    /// The server's certificate chain and key (PEM), for syslog over TLS (RFC 5425).
    package struct TLS: Sendable {
        package var certificatePEM: String
        package var privateKeyPEM: String
        package var caPEM: String

        package init(certificatePEM: String, privateKeyPEM: String, caPEM: String) {
            self.certificatePEM = certificatePEM
            self.privateKeyPEM = privateKeyPEM
            self.caPEM = caPEM
        }
    }

    package static func with<Result: Sendable>(
        port fixed: Int? = nil, tls: TLS? = nil, _ body: (RsyslogServer) async throws -> Result
    ) async throws -> Result {
        guard available else { throw CHOMError(.unavailable, "rsyslog is missing (scripts/install-deps.sh installs it)") }
        let directory = try TemporaryDirectory.make(prefix: "chom-rsyslog")
        defer { TemporaryDirectory.remove(directory) }
        let port = try fixed ?? FreePort.next()
        let received = directory.appendingPathComponent("received.log")
        let configuration = directory.appendingPathComponent("rsyslog.conf")
        var input = """
            module(load="imtcp")
            input(type="imtcp" address="127.0.0.1" port="\(port)")
            """
        if let tls {
            guard tlsAvailable else { throw CHOMError(.unavailable, "rsyslog's TLS driver is missing (rsyslog-gnutls)") }
            for (name, text) in [("ca.pem", tls.caPEM), ("cert.pem", tls.certificatePEM), ("key.pem", tls.privateKeyPEM)] {
                try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
            }
            input = """
                global(DefaultNetstreamDriver="gtls"
                       DefaultNetstreamDriverCAFile="\(directory.appendingPathComponent("ca.pem").path)"
                       DefaultNetstreamDriverCertFile="\(directory.appendingPathComponent("cert.pem").path)"
                       DefaultNetstreamDriverKeyFile="\(directory.appendingPathComponent("key.pem").path)")
                module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
                input(type="imtcp" address="127.0.0.1" port="\(port)")
                """
        }
        try """
            global(workDirectory="\(directory.path)")
            \(input)
            template(name="chom" type="string" string="%msgid% %structured-data% %msg%\\n")
            *.* action(type="omfile" file="\(received.path)" template="chom")
            """.write(to: configuration, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("rsyslogd.log").path
        let pid = try BackgroundServer.spawn(binary, [
            "-n", "-f", configuration.path, "-i", directory.appendingPathComponent("rsyslogd.pid").path,
        ], log: log)
        do {
            try await TCPProbe.waitUntilListening(port: port, within: .seconds(30), what: "rsyslog")
            let result = try await body(RsyslogServer(port: port, received: received))
            await BackgroundServer.stop(pid, grace: .seconds(10))
            return result
        } catch {
            await BackgroundServer.stop(pid, grace: .seconds(10))
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if !output.isEmpty { print("rsyslogd output:\n" + output.suffix(4_000)) }
            throw error
        }
    }

    /// The lines received so far.
    package func lines() -> [String] {
        guard let text = try? String(contentsOf: received, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }
}
