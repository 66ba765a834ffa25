import CHOMAgent
import Foundation
import Prometheus
import Testing

@Suite("Site metrics")
struct SiteMetricsTests {
    static let at = Date(timeIntervalSince1970: 1_800_000_000)

    func render(_ registry: PrometheusCollectorRegistry) -> [Substring] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self).split(separator: "\n")
    }

    func lines(_ registry: PrometheusCollectorRegistry, containing fragment: String) -> [Substring] {
        render(registry).filter { $0.contains(fragment) }
    }

    @Test("deploys and backups render with site and tenant labels")
    func rendered() {
        let registry = PrometheusCollectorRegistry()
        let sites = SiteMetrics(registry: registry)
        sites.deployFinished(site: "shop.example", tenant: "t-1", release: "r1", result: .succeeded, at: Self.at)
        sites.deployFinished(site: "shop.example", tenant: "t-1", release: nil, result: .failed, at: Self.at + 60)
        sites.backupSucceeded(site: "shop.example", tenant: "t-1", at: Self.at, bytes: 4096, duration: .milliseconds(2500))
        sites.backupVerified(site: "shop.example", tenant: "t-1", at: Self.at + 5)
        let text = render(registry)
        let labels = #"site="shop.example",tenant="t-1""#
        for expected in [
            #"chom_site_deploys_total{\#(labels),result="succeeded"} 1"#,
            #"chom_site_deploys_total{\#(labels),result="failed"} 1"#,
            #"chom_site_deploys_total{\#(labels),result="rolled_back"} 0"#,
            #"chom_site_release_info{\#(labels),release="r1"} 1.0"#,
            #"chom_site_last_deploy_timestamp_seconds{\#(labels)} 1800000060.0"#,
            #"chom_site_last_deploy_success{\#(labels)} 0.0"#,
            #"chom_site_last_backup_timestamp_seconds{\#(labels)} 1800000000.0"#,
            #"chom_site_last_backup_size_bytes{\#(labels)} 4096.0"#,
            #"chom_site_last_backup_duration_seconds{\#(labels)} 2.5"#,
            #"chom_site_last_verified_backup_timestamp_seconds{\#(labels)} 1800000005.0"#,
            "# TYPE chom_site_deploys_total counter", "# TYPE chom_site_release_info gauge",
        ] {
            #expect(text.contains(Substring(expected)), "\(expected)")
        }
    }

    @Test("the release series is replaced when the release changes")
    func release() {
        let registry = PrometheusCollectorRegistry()
        let sites = SiteMetrics(registry: registry)
        sites.deployFinished(site: "a.example", tenant: "t", release: "r1", result: .succeeded, at: Self.at)
        sites.deployFinished(site: "b.example", tenant: "t", release: "r9", result: .succeeded, at: Self.at)
        sites.deployFinished(site: "a.example", tenant: "t", release: "r2", result: .succeeded, at: Self.at)
        let info = lines(registry, containing: "chom_site_release_info{")
        #expect(Set(info) == [
            #"chom_site_release_info{site="a.example",tenant="t",release="r2"} 1.0"#,
            #"chom_site_release_info{site="b.example",tenant="t",release="r9"} 1.0"#,
        ])
        // A rollback reports the release serving the site again.
        sites.deployFinished(site: "a.example", tenant: "t", release: "r1", result: .rolledBack, at: Self.at)
        #expect(lines(registry, containing: #"chom_site_release_info{site="a.example""#) == [
            #"chom_site_release_info{site="a.example",tenant="t",release="r1"} 1.0"#
        ])
        #expect(lines(registry, containing: #"result="rolled_back"} 1"#).count == 1)
    }

    @Test("removing a site drops all its series and leaves the others")
    func removal() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let registry = PrometheusCollectorRegistry()
            let sites = SiteMetrics(registry: registry)
            let log = directory.appendingPathComponent("access.log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            sites.register(site: "gone.example", tenant: "t", tree: directory, accessLog: log)
            sites.deployFinished(site: "gone.example", tenant: "t", release: "r1", result: .succeeded, at: Self.at)
            sites.backupSucceeded(site: "gone.example", tenant: "t", at: Self.at, bytes: 1, duration: .seconds(1))
            sites.refreshDiskUsage(now: .now)
            sites.deployFinished(site: "kept.example", tenant: "t", release: "r1", result: .succeeded, at: Self.at)
            #expect(lines(registry, containing: "gone.example").count == 3 + 1 + 2 + 3 + 5 + 1 + 1)

            sites.siteRemoved(site: "gone.example")
            #expect(lines(registry, containing: "gone.example").isEmpty)
            #expect(lines(registry, containing: "kept.example").count == 3 + 1 + 2)
            // Families left without series disappear entirely, HELP and TYPE included.
            #expect(lines(registry, containing: "chom_site_requests_total").isEmpty)
            #expect(lines(registry, containing: "chom_site_last_backup").isEmpty)
            sites.collect()  // A removed site's log is no longer read.
        }
    }

    @Test("a new tenant for a site replaces its series")
    func tenantChange() {
        let registry = PrometheusCollectorRegistry()
        let sites = SiteMetrics(registry: registry)
        sites.deployFinished(site: "a.example", tenant: "t1", release: "r1", result: .succeeded, at: Self.at)
        sites.deployFinished(site: "a.example", tenant: "t2", release: "r1", result: .succeeded, at: Self.at)
        #expect(lines(registry, containing: #"tenant="t1""#).isEmpty)
        #expect(lines(registry, containing: #"chom_site_deploys_total{site="a.example",tenant="t2",result="succeeded"} 1"#).count == 1)
    }

    @Test("requests from the access log are counted per class on each collect")
    func requests() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let registry = PrometheusCollectorRegistry()
            let sites = SiteMetrics(registry: registry)
            let log = directory.appendingPathComponent("access.log")
            try AccessLogTests.line(200).write(to: log, atomically: false, encoding: .utf8)
            sites.register(site: "a.example", tenant: "t", tree: nil, accessLog: log)
            #expect(lines(registry, containing: #"chom_site_requests_total{site="a.example",tenant="t",class="2xx"} 0"#).count == 1)
            try AccessLogTests.append(AccessLogTests.line(200) + AccessLogTests.line(503) + "bad line\n", to: log.path)
            sites.collect()
            sites.collect()
            let text = render(registry)
            #expect(text.contains(#"chom_site_requests_total{site="a.example",tenant="t",class="2xx"} 1"#))
            #expect(text.contains(#"chom_site_requests_total{site="a.example",tenant="t",class="5xx"} 1"#))
            #expect(text.contains(#"chom_site_requests_total{site="a.example",tenant="t",class="4xx"} 0"#))
            #expect(text.contains(#"chom_site_access_log_unparsed_lines_total{site="a.example",tenant="t"} 1"#))
            // Registering again with the same log keeps the position and the counts.
            sites.register(site: "a.example", tenant: "t", tree: nil, accessLog: log)
            sites.collect()
            #expect(render(registry).contains(#"chom_site_requests_total{site="a.example",tenant="t",class="2xx"} 1"#))
        }
    }

    @Test("disk usage is walked when due and cached in between")
    func diskUsage() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let registry = PrometheusCollectorRegistry()
            var configuration = SiteMetrics.Configuration()
            configuration.diskUsageInterval = .seconds(300)
            let sites = SiteMetrics(registry: registry, configuration: configuration)
            try Data(count: 64 * 1024).write(to: directory.appendingPathComponent("a.bin"))
            sites.register(site: "a.example", tenant: "t", tree: directory, accessLog: nil)
            sites.register(site: "nolog.example", tenant: "t", tree: nil, accessLog: nil)
            let start = ContinuousClock.now
            #expect(sites.refreshDiskUsage(now: start) == 1)
            let first = try #require(diskBytes(registry))
            #expect(first >= 64 * 1024)

            try Data(count: 256 * 1024).write(to: directory.appendingPathComponent("b.bin"))
            #expect(sites.refreshDiskUsage(now: start + .seconds(299)) == 0)
            #expect(diskBytes(registry) == first)
            #expect(sites.refreshDiskUsage(now: start + .seconds(300)) == 1)
            #expect(try #require(diskBytes(registry)) >= first + 256 * 1024)
        }
    }

    func diskBytes(_ registry: PrometheusCollectorRegistry) -> Double? {
        lines(registry, containing: #"chom_site_disk_bytes{site="a.example",tenant="t"}"#).first
            .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }

    @Test("AgentMetrics renders host and site series together")
    func agentMetrics() {
        let metrics = AgentMetrics()
        metrics.sites.deployFinished(site: "a.example", tenant: "t", release: "r1", result: .succeeded, at: Self.at)
        let text = metrics.text()
        #expect(text.contains("# TYPE chom_host_cpu_seconds_total counter"))
        #expect(text.contains(#"chom_site_release_info{site="a.example",tenant="t",release="r1"} 1.0"#))
        #expect(text.contains("# TYPE chom_agent_tasks_total counter"))
    }
}

