import CHOMAgent
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

@Suite("Metrics server")
struct MetricsServerTests {
    func get(_ port: Int, _ path: String) async throws -> (status: Int, contentType: String?, body: String) {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)\(path)"))
        let (data, response) = try await URLSession.shared.data(from: url)
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, http.value(forHTTPHeaderField: "Content-Type"), String(decoding: data, as: UTF8.self))
    }

    @Test("GET /metrics on the bound port serves the agent's metrics; any other path is 404")
    func servesMetrics() async throws {
        let metrics = AgentMetrics()
        metrics.envelopeRefused(reason: "expired")
        let server = MetricsServer(host: "127.0.0.1", port: 0, logger: Fixtures.logger) { metrics.render() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            // Generous: the whole suite starts at once on two cores.
            let deadline = ContinuousClock.now + .seconds(30)
            while server.boundPort == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            let port = try #require(server.boundPort)
            #expect(port > 0)

            let metricsPage = try await get(port, "/metrics")
            #expect(metricsPage.status == 200)
            #expect(metricsPage.contentType?.hasPrefix("text/plain; version=0.0.4") == true)
            for name in [
                "chom_agent_tasks_total", "chom_agent_envelope_refusals_total", "chom_agent_stream_connected",
                "chom_agent_reconnects_total", "chom_agent_resident_memory_bytes",
            ] {
                #expect(metricsPage.body.contains("# TYPE \(name)"), "\(name)")
            }
            #expect(metricsPage.body.contains(#"chom_agent_envelope_refusals_total{reason="expired"} 1"#))
            let memory = metricsPage.body.split(separator: "\n").first { $0.hasPrefix("chom_agent_resident_memory_bytes ") }
            #expect((memory.flatMap { Double($0.split(separator: " ")[1]) } ?? 0) > 1_000_000)

            #expect(try await get(port, "/other").status == 404)
            #expect(try await get(port, "/").status == 404)
            group.cancelAll()
        }
    }
}
