package import Prometheus
import CHOMCore
import Synchronization

/// The host's series in the agent's registry, refreshed from a `HostSample` on each scrape
/// (`refresh()`, called by `AgentMetrics.render()` before the registry is emitted).
///
/// Cumulative kernel values (CPU time, network bytes) are Prometheus *counters* that mirror the
/// kernel's value (`MirroredCounter`) rather than gauges: a gauge named `_total` would break the
/// rule that `_total` means counter, and tools would not apply `rate()`'s reset handling to it.
/// Mounts and interfaces that disappear between scrapes have their series removed.
package final class HostMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let state = Mutex(State())

    private struct Traffic: Sendable {
        var received: MirroredCounter
        var transmitted: MirroredCounter

        mutating func advance(received: UInt64, transmitted: UInt64) {
            self.received.advance(to: received)
            self.transmitted.advance(to: transmitted)
        }
    }

    private struct State: Sendable {
        var cpu: [String: MirroredCounter] = [:]
        var memory: [String: Gauge] = [:]
        var load: [String: Gauge] = [:]
        var disks: [String: [Gauge]] = [:]
        var network: [String: Traffic] = [:]
        var uptime: Gauge?
    }

    package init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// Reads /proc and statvfs and updates the series.
    package func refresh() {
        update(with: HostSampler.read())
    }

    package func update(with sample: HostSample) {
        state.withLock { state in
            for (mode, ticks) in sample.cpuTicks {
                state.cpu[mode, default: MirroredCounter(
                    counter(MetricName.hostCPUSeconds, "CPU time spent in each mode, summed over CPUs", [("mode", mode)]),
                    divisor: sample.ticksPerSecond)
                ].advance(to: ticks)
            }
            for (kind, bytes) in sample.memoryBytes {
                state.memory[kind, default: gauge(MetricName.hostMemoryBytes, "Memory from /proc/meminfo", [("kind", kind)])]
                    .set(to: Double(bytes))
            }
            for (window, value) in sample.load {
                state.load[window, default: gauge(MetricName.hostLoad, "Load average", [("window", window)])].set(to: value)
            }
            if let uptime = sample.uptimeSeconds {
                if state.uptime == nil { state.uptime = gauge(MetricName.hostUptime, "Seconds since the host booted", []) }
                state.uptime?.set(to: uptime)
            }
            updateDisks(sample.disks, in: &state.disks)
            updateNetwork(sample.interfaces, in: &state.network)
        }
    }

    private func updateDisks(_ disks: [HostSample.Disk], in series: inout [String: [Gauge]]) {
        let kinds = ["size", "free", "available"]
        for disk in disks {
            let gauges = series[disk.mountPoint] ?? kinds.map { kind in
                gauge(MetricName.hostDiskBytes, "File system space by mount point", [("mount", disk.mountPoint), ("kind", kind)])
            }
            series[disk.mountPoint] = gauges
            for (gauge, bytes) in zip(gauges, [disk.sizeBytes, disk.freeBytes, disk.availableBytes]) {
                gauge.set(to: Double(bytes))
            }
        }
        let current = Set(disks.map(\.mountPoint))
        for (mountPoint, gauges) in series where !current.contains(mountPoint) {
            gauges.forEach(registry.unregisterGauge)
            series[mountPoint] = nil
        }
    }

    private func updateNetwork(_ interfaces: [HostSample.Interface], in series: inout [String: Traffic]) {
        let help = "Bytes through each network interface (loopback excluded)"
        for interface in interfaces {
            series[interface.name, default: Traffic(
                received: MirroredCounter(counter(MetricName.hostNetworkBytes, help, [
                    ("interface", interface.name), ("direction", "receive"),
                ])),
                transmitted: MirroredCounter(counter(MetricName.hostNetworkBytes, help, [
                    ("interface", interface.name), ("direction", "transmit"),
                ])))
            ].advance(received: interface.receivedBytes, transmitted: interface.transmittedBytes)
        }
        let current = Set(interfaces.map(\.name))
        for (name, traffic) in series where !current.contains(name) {
            registry.unregisterCounter(traffic.received.counter)
            registry.unregisterCounter(traffic.transmitted.counter)
            series[name] = nil
        }
    }

    private func gauge(_ name: String, _ help: String, _ labels: [(String, String)]) -> Gauge {
        registry.gauge(name, help: help, labels: labels)
    }

    private func counter(_ name: String, _ help: String, _ labels: [(String, String)]) -> Counter {
        registry.counter(name, help: help, labels: labels)
    }
}
