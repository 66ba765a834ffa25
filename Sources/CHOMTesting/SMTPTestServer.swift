import CHOMCore
package import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// aiosmtpd (PyPI) as a real SMTP server for one test: `aiosmtpd -n -l 127.0.0.1:<port>
/// -c aiosmtpd.handlers.Mailbox <maildir>`, optionally with implicit TLS (`--smtpscert`). What it
/// received is read back from the Maildir. Stopped when the body returns or throws.
///
/// The binary: `CHOM_AIOSMTPD`, else `$CHOM_BILLING_VENV/bin/aiosmtpd`, else
/// `<repository>/.build-tools/billing/bin/aiosmtpd`, which `scripts/install-billing-peers.sh` creates.
package struct SMTPTestServer: Sendable {
    /// One received message: its headers (names lower-cased) and its body, base64 decoded if it was.
    package struct Received: Sendable {
        package var headers: [String: String]
        package var body: String
    }

    package let port: Int
    let maildir: URL

    /// Starts aiosmtpd; `tls` is (certificate PEM path, key PEM path) for SMTPS.
    package static func with<Result: Sendable>(
        tls: (certificate: String, key: String)? = nil, port fixed: Int? = nil, _ body: (SMTPTestServer) async throws -> Result
    ) async throws -> Result {
        let binary = try BackgroundServer.locate(
            binary: "aiosmtpd", serverVariable: "CHOM_AIOSMTPD", venvVariable: "CHOM_BILLING_VENV", venv: "billing",
            installScript: "scripts/install-billing-peers.sh")
        let directory = try TemporaryDirectory.make(prefix: "chom-smtp")
        defer { TemporaryDirectory.remove(directory) }
        let maildir = directory.appendingPathComponent("Maildir")
        let port = try fixed ?? FreePort.next()
        var arguments = ["-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox"]
        if let tls { arguments += ["--smtpscert", tls.certificate, "--smtpskey", tls.key] }
        arguments.append(maildir.path)
        let log = directory.appendingPathComponent("aiosmtpd.log").path
        let pid = try BackgroundServer.spawn(binary, arguments, log: log)
        do {
            try await TCPProbe.waitUntilListening(port: port, within: .seconds(30), what: "aiosmtpd")
            let result = try await body(SMTPTestServer(port: port, maildir: maildir))
            await BackgroundServer.stop(pid, grace: .seconds(5))
            return result
        } catch {
            await BackgroundServer.stop(pid, grace: .seconds(5))
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if !output.isEmpty { print("aiosmtpd output:\n" + output.suffix(4_000)) }
            throw error
        }
    }

    /// Every message received so far.
    package func messages() -> [Received] {
        var result: [Received] = []
        for folder in ["new", "cur"] {
            let url = maildir.appendingPathComponent(folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            for name in names.sorted() {
                guard let text = try? String(contentsOf: url.appendingPathComponent(name), encoding: .utf8) else { continue }
                result.append(Self.parse(text))
            }
        }
        return result
    }

    /// Polls until `count` messages were received, or throws after `within`.
    package func waitForMessages(_ count: Int, within: Duration = .seconds(30)) async throws -> [Received] {
        let deadline = ContinuousClock.now + within
        while true {
            let received = messages()
            if received.count >= count { return received }
            guard ContinuousClock.now < deadline else {
                throw CHOMError(.unavailable, "aiosmtpd received \(received.count) messages, not \(count), within \(within)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    static func parse(_ text: String) -> Received {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        let parts = normalized.components(separatedBy: "\n\n")
        var headers: [String: String] = [:]
        var last: String?
        for line in (parts.first ?? "").split(separator: "\n", omittingEmptySubsequences: false) {
            if line.first == " " || line.first == "\t", let key = last {
                headers[key, default: ""] += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].lowercased()
            headers[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            last = key
        }
        var body = parts.dropFirst().joined(separator: "\n\n")
        if headers["content-transfer-encoding"]?.lowercased() == "base64",
            let data = Data(base64Encoded: body.replacingOccurrences(of: "\n", with: "")),
            let decoded = String(data: data, encoding: .utf8)
        {
            body = decoded
        }
        return Received(headers: headers, body: body)
    }
}

/// Waits for a TCP port on 127.0.0.1 to accept connections.
package enum TCPProbe {
    package static func waitUntilListening(port: Int, within: Duration, what: String) async throws {
        let deadline = ContinuousClock.now + within
        while !isListening(port: port) {
            guard ContinuousClock.now < deadline else {
                throw CHOMError(.unavailable, "\(what) did not listen on 127.0.0.1:\(port) within \(within)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    package static func isListening(port: Int) -> Bool {
        FreePort.withLoopbackSocket(port: port) { fd, address, length in connect(fd, address, length) == 0 }
    }
}
