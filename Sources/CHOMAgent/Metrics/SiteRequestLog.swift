import CHOMCore
import Prometheus

/// A site's nginx access log and the counters it feeds: `chom_site_requests_total{class}` and
/// `chom_site_access_log_unparsed_lines_total`, labelled like the site's other series.
struct SiteRequestLog: Sendable {
    let tenant: String
    private var tail: AccessLogTail
    private let requests: [StatusClass: Counter]
    private let unparsed: Counter
    /// Body bytes read since the last `takeBodyBytes()` (bandwidth for billing's meter).
    private(set) var bodyBytes: UInt64 = 0

    var path: String { tail.path }

    init(path: String, tenant: String, labels: [(String, String)], maxBytesPerPoll: Int, registry: PrometheusCollectorRegistry) {
        self.tenant = tenant
        tail = AccessLogTail(path: path, maxBytesPerPoll: maxBytesPerPoll)
        var requests: [StatusClass: Counter] = [:]
        for statusClass in StatusClass.allCases {
            requests[statusClass] = registry.counter(
                MetricName.siteRequests, help: "Requests in the site's access log by status class",
                labels: labels + [("class", statusClass.rawValue)])
        }
        self.requests = requests
        unparsed = registry.counter(
            MetricName.siteAccessLogUnparsed, help: "Access log lines without a readable status", labels: labels)
    }

    /// Counts the lines appended since the last poll.
    mutating func poll() {
        let batch = tail.poll()
        for (statusClass, count) in batch.counts {
            requests[statusClass]?.increment(by: Int64(count))
        }
        if batch.unparsed > 0 { unparsed.increment(by: Int64(batch.unparsed)) }
        bodyBytes &+= batch.bodyBytes
    }

    /// The body bytes read since the last call.
    mutating func takeBodyBytes() -> UInt64 {
        defer { bodyBytes = 0 }
        return bodyBytes
    }

    func unregister(from registry: PrometheusCollectorRegistry) {
        requests.values.forEach(registry.unregisterCounter)
        registry.unregisterCounter(unparsed)
    }
}
