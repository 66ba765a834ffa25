import CHOMCore
package import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Debian's Prometheus and Alertmanager (`scripts/install-deps.sh`) for one test, on loopback
/// ports of their own, with the configurations the test writes: started as process groups,
/// stopped (and their directories removed) when the body returns or throws.
package struct PrometheusStack: Sendable {
    package let prometheusPort: Int
    package let alertmanagerPort: Int
    /// Where the configurations go; `{prometheus}`-relative paths (rule files) resolve here.
    package let directory: URL

    package static let prometheusBinary = "/usr/bin/prometheus"
    package static let alertmanagerBinary = "/usr/bin/prometheus-alertmanager"
    package static var available: Bool {
        FileManager.default.isExecutableFile(atPath: prometheusBinary)
            && FileManager.default.isExecutableFile(atPath: alertmanagerBinary)
    }

    /// `prepare` writes `prometheus.yml` and `alertmanager.yml` (and anything they name) into the
    /// directory, given the two ports; then both servers start.
    package static func with<Result: Sendable>(
        prometheusPort fixed: Int? = nil,
        prepare: (_ directory: URL, _ prometheusPort: Int, _ alertmanagerPort: Int) throws -> Void,
        _ body: (PrometheusStack) async throws -> Result
    ) async throws -> Result {
        guard available else {
            throw CHOMError(.unavailable, "Prometheus and Alertmanager are missing (scripts/install-deps.sh installs them)")
        }
        let directory = try TemporaryDirectory.make(prefix: "chom-prometheus")
        defer { TemporaryDirectory.remove(directory) }
        let prometheusPort = try fixed ?? FreePort.next()
        let alertmanagerPort = try FreePort.next()
        try prepare(directory, prometheusPort, alertmanagerPort)
        let alertmanagerLog = directory.appendingPathComponent("alertmanager.log").path
        let prometheusLog = directory.appendingPathComponent("prometheus.log").path
        let alertmanager = try BackgroundServer.spawn(alertmanagerBinary, [
            "--config.file=\(directory.appendingPathComponent("alertmanager.yml").path)",
            "--storage.path=\(directory.appendingPathComponent("alertmanager-data").path)",
            "--web.listen-address=127.0.0.1:\(alertmanagerPort)", "--cluster.listen-address=",
        ], log: alertmanagerLog)
        var prometheus: pid_t?
        do {
            prometheus = try BackgroundServer.spawn(prometheusBinary, [
                "--config.file=\(directory.appendingPathComponent("prometheus.yml").path)",
                "--storage.tsdb.path=\(directory.appendingPathComponent("prometheus-data").path)",
                "--web.listen-address=127.0.0.1:\(prometheusPort)",
            ], log: prometheusLog)
            try await TCPProbe.waitUntilListening(port: alertmanagerPort, within: .seconds(30), what: "Alertmanager")
            try await TCPProbe.waitUntilListening(port: prometheusPort, within: .seconds(30), what: "Prometheus")
            // Listening is not ready: until its storage is open, Prometheus answers 503 in plain text.
            for (port, what) in [(alertmanagerPort, "Alertmanager"), (prometheusPort, "Prometheus")] {
                let deadline = ContinuousClock.now + .seconds(60)
                while (try? await TestHTTP.request("GET", URL(string: "http://127.0.0.1:\(port)/-/ready")!))?.status != 200 {
                    guard ContinuousClock.now < deadline else { throw CHOMError(.unavailable, "\(what) never became ready") }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            let result = try await body(
                PrometheusStack(prometheusPort: prometheusPort, alertmanagerPort: alertmanagerPort, directory: directory))
            if let prometheus { await BackgroundServer.stop(prometheus, grace: .seconds(10)) }
            await BackgroundServer.stop(alertmanager, grace: .seconds(10))
            return result
        } catch {
            if let prometheus { await BackgroundServer.stop(prometheus, grace: .seconds(10)) }
            await BackgroundServer.stop(alertmanager, grace: .seconds(10))
            for (name, log) in [("Prometheus", prometheusLog), ("Alertmanager", alertmanagerLog)] {
                let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                if !output.isEmpty { print("\(name) output:\n" + output.suffix(4_000)) }
            }
            throw error
        }
    }

    /// An instant query through Prometheus' HTTP API: each series as (labels, value).
    package func query(_ promql: String) async throws -> [(labels: [String: String], value: Double)] {
        var components = URLComponents(string: "http://127.0.0.1:\(prometheusPort)/api/v1/query")!
        components.queryItems = [URLQueryItem(name: "query", value: promql)]
        let reply = try await TestHTTP.request("GET", components.url!)
        let json = try reply.json()
        guard reply.status == 200, json["status"] as? String == "success",
            let data = json["data"] as? [String: Any], let results = data["result"] as? [[String: Any]]
        else { throw CHOMError(.unavailable, "Prometheus answered \(reply.status) to \(promql): \(reply.text)") }
        return results.compactMap { result in
            guard let labels = result["metric"] as? [String: String], let pair = result["value"] as? [Any],
                pair.count == 2, let text = pair[1] as? String, let value = Double(text)
            else { return nil }
            return (labels, value)
        }
    }

    /// The alerts Alertmanager holds now (API v2): each alert's labels and state.
    package func alertmanagerAlerts() async throws -> [(labels: [String: String], state: String)] {
        let reply = try await TestHTTP.request("GET", URL(string: "http://127.0.0.1:\(alertmanagerPort)/api/v2/alerts")!)
        guard reply.status == 200, let alerts = try JSONSerialization.jsonObject(with: reply.body) as? [[String: Any]] else {
            throw CHOMError(.unavailable, "Alertmanager answered \(reply.status): \(reply.text)")
        }
        return alerts.compactMap { alert in
            guard let labels = alert["labels"] as? [String: String], let status = alert["status"] as? [String: Any],
                let state = status["state"] as? String
            else { return nil }
            return (labels, state)
        }
    }
}
