package import Foundation
import CHOMCore

extension CoordinatorConfiguration {
    /// Where the tenant-facing metrics routes read from: the operator's Prometheus, which scrapes
    /// the agents and the coordinator (`coordinator-config/prometheus.yml`).
    package struct Observability: Sendable, Codable, Equatable {
        /// Prometheus' base URL (`http://127.0.0.1:9090`); nil: the metrics routes answer 404.
        package var prometheusURL: String?
        package var queryTimeoutSeconds = 10.0
        package init() {}
    }
}

extension CoordinatorConfiguration.Observability {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        prometheusURL = try c.decodeIfPresent(String.self, forKey: .prometheusURL)
        queryTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .queryTimeoutSeconds) ?? queryTimeoutSeconds
    }

    package func validate() throws {
        if let prometheusURL {
            guard let url = URL(string: prometheusURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil,
                url.query == nil
            else { throw CHOMError(.configuration, "observability.prometheusURL must be an http(s) URL without a query") }
        }
        guard queryTimeoutSeconds >= 1, queryTimeoutSeconds <= 120 else {
            throw CHOMError(.configuration, "observability.queryTimeoutSeconds must be 1 to 120")
        }
    }

}
