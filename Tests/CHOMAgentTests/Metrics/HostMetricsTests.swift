import CHOMAgent
import Prometheus
import Testing

@Suite("Host metrics")
struct HostMetricsTests {
    @Test("the live reader on this machine returns sane values")
    func live() throws {
        let sample = HostSampler.read()
        #expect((sample.cpuTicks["user"] ?? 0) > 0)
        #expect((sample.cpuTicks["idle"] ?? 0) > 0)
        #expect((sample.memoryBytes["total"] ?? 0) > 0)
        #expect((sample.memoryBytes["available"] ?? 0) <= (sample.memoryBytes["total"] ?? 0))
        #expect(!sample.disks.isEmpty)
        for disk in sample.disks {
            #expect(disk.sizeBytes > 0)
            #expect(disk.availableBytes <= disk.freeBytes)
        }
        #expect(sample.load.count == 3)
        #expect((sample.uptimeSeconds ?? 0) > 0)
        #expect(sample.ticksPerSecond > 0)

        let registry = PrometheusCollectorRegistry()
        HostMetrics(registry: registry).refresh()
        let text = registry.emitToString()
        for line in [
            "# TYPE chom_host_cpu_seconds_total counter", "# TYPE chom_host_memory_bytes gauge",
            "# TYPE chom_host_disk_bytes gauge", "# TYPE chom_host_load gauge", "# TYPE chom_host_uptime_seconds gauge",
            #"chom_host_disk_bytes{mount="/",kind="size"} "#, #"chom_host_load{window="15m"} "#,
        ] {
            #expect(text.contains(line), "\(line)")
        }
    }

    @Test("kernel counters are exported as counters with the kernel's value, in seconds for CPU time")
    func counters() {
        let registry = PrometheusCollectorRegistry()
        let host = HostMetrics(registry: registry)
        var sample = HostSample()
        sample.ticksPerSecond = 100
        sample.cpuTicks = ["user": 12345, "idle": 500]
        sample.interfaces = [HostSample.Interface(name: "eth0", receivedBytes: 1000, transmittedBytes: 10)]
        host.update(with: sample)
        var text = registry.emitToString()
        #expect(text.contains(#"chom_host_cpu_seconds_total{mode="user"} 123.45"#))
        #expect(text.contains(#"chom_host_network_bytes_total{interface="eth0",direction="receive"} 1000"#))

        sample.cpuTicks = ["user": 12445, "idle": 500]
        sample.interfaces = [HostSample.Interface(name: "eth0", receivedBytes: 1500, transmittedBytes: 10)]
        host.update(with: sample)
        text = registry.emitToString()
        #expect(text.contains(#"chom_host_cpu_seconds_total{mode="user"} 124.45"#))
        #expect(text.contains(#"chom_host_cpu_seconds_total{mode="idle"} 5.0"#))
        #expect(text.contains(#"chom_host_network_bytes_total{interface="eth0",direction="receive"} 1500"#))
        #expect(text.contains(#"chom_host_network_bytes_total{interface="eth0",direction="transmit"} 10"#))

        // The interface was re-created: its counter restarts from the kernel's new value.
        sample.interfaces = [HostSample.Interface(name: "eth0", receivedBytes: 20, transmittedBytes: 10)]
        host.update(with: sample)
        #expect(registry.emitToString().contains(#"chom_host_network_bytes_total{interface="eth0",direction="receive"} 20"#))
    }

    @Test("mounts and interfaces that disappear lose their series")
    func disappearing() {
        let registry = PrometheusCollectorRegistry()
        let host = HostMetrics(registry: registry)
        var sample = HostSample()
        sample.disks = [
            HostSample.Disk(mountPoint: "/", sizeBytes: 100, freeBytes: 50, availableBytes: 40),
            HostSample.Disk(mountPoint: "/srv", sizeBytes: 200, freeBytes: 20, availableBytes: 10),
        ]
        sample.interfaces = [HostSample.Interface(name: "eth1", receivedBytes: 1, transmittedBytes: 2)]
        host.update(with: sample)
        var text = registry.emitToString()
        #expect(text.contains(#"chom_host_disk_bytes{mount="/srv",kind="available"} 10.0"#))
        #expect(text.contains(#"interface="eth1""#))

        sample.disks.removeLast()
        sample.interfaces = []
        host.update(with: sample)
        text = registry.emitToString()
        #expect(!text.contains(#"mount="/srv""#))
        #expect(text.contains(#"chom_host_disk_bytes{mount="/",kind="size"} 100.0"#))
        #expect(!text.contains("chom_host_network_bytes_total"))
    }
}
