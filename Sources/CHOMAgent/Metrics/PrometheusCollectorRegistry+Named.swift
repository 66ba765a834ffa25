import Prometheus

/// Makes collectors from a full metric name (as in `MetricName`), help text and labels, without
/// the deprecated `name:labels:help:` variants.
extension PrometheusCollectorRegistry {
    func gauge(_ name: String, help: String, labels: [(String, String)] = []) -> Gauge {
        makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
    }

    func counter(_ name: String, help: String, labels: [(String, String)] = []) -> Counter {
        makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
    }
}
