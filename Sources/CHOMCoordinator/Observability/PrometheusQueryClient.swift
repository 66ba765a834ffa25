import AsyncHTTPClient
import CHOMAPI
import CHOMCore
import Foundation
import NIOCore
import NIOHTTP1

/// Range queries against the operator's Prometheus (`observability.prometheusURL`), for the
/// tenant-facing metrics routes. One deadline per query, the answer bounded, only the labels
/// `SiteSeriesQuery.keptLabels` kept and non-finite values dropped.
struct PrometheusQueryClient: Sendable {
    static let maximumAnswerBytes = 8 << 20
    let base: URL
    let timeout: TimeAmount
    let client: HTTPClient

    func range(_ query: SiteSeriesQuery, end: Date) async throws -> MetricSeriesResponse {
        // Ending now, to the millisecond (not rounded down to the second: a sample scraped within
        // that second would be left out), so the newest point is the latest sample.
        let endSeconds = (end.timeIntervalSince1970 * 1000).rounded(.down) / 1000
        var components = URLComponents(url: base.appendingPathComponent("api/v1/query_range"), resolvingAgainstBaseURL: false)
        components?.queryItems = [
            URLQueryItem(name: "query", value: query.promQL),
            URLQueryItem(name: "start", value: String(format: "%.3f", endSeconds - Double(query.range.seconds))),
            URLQueryItem(name: "end", value: String(format: "%.3f", endSeconds)),
            URLQueryItem(name: "step", value: String(query.range.stepSeconds)),
        ]
        // '+' is a space to Prometheus' form decoding: encode it in the query.
        let encoded = components?.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        components?.percentEncodedQuery = encoded
        guard let url = components?.url else { throw CHOMError(.configuration, "observability.prometheusURL is not a URL") }
        let body: ByteBuffer
        let status: UInt
        do {
            let response = try await client.execute(HTTPClientRequest(url: url.absoluteString), timeout: timeout)
            status = response.status.code
            body = try await response.body.collect(upTo: Self.maximumAnswerBytes)
        } catch {
            throw CHOMError(.unavailable, "Prometheus did not answer: \(error)")
        }
        guard status == 200 else { throw CHOMError(.unavailable, "Prometheus answered \(status)") }
        return MetricSeriesResponse(
            series: query.series.rawValue, range: query.range.rawValue, stepSeconds: query.range.stepSeconds,
            lines: try Self.lines(Data(body.readableBytesView)))
    }

    /// The matrix of a `query_range` answer.
    static func lines(_ data: Data) throws -> [MetricSeriesResponse.Line] {
        struct Answer: Decodable {
            struct Matrix: Decodable {
                struct Result: Decodable {
                    var metric: [String: String]
                    var values: [[Value]]
                }
                var resultType: String
                var result: [Result]
            }
            var status: String
            var data: Matrix?
        }
        enum Value: Decodable {
            case number(Double), text(String)
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Double.self) { self = .number(number) } else {
                    self = .text(try container.decode(String.self))
                }
            }
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: data), answer.status == "success",
            let matrix = answer.data, matrix.resultType == "matrix"
        else { throw CHOMError(.unavailable, "Prometheus' answer is not a range query's matrix") }
        return matrix.result.map { result in
            let points = result.values.compactMap { pair -> MetricSeriesResponse.Point? in
                guard pair.count == 2, case .number(let time) = pair[0], case .text(let text) = pair[1],
                    let value = Double(text), value.isFinite
                else { return nil }
                return MetricSeriesResponse.Point(time: Date(timeIntervalSince1970: time), value: value)
            }
            return MetricSeriesResponse.Line(
                labels: result.metric.filter { SiteSeriesQuery.keptLabels.contains($0.key) }, points: points)
        }
    }
}
