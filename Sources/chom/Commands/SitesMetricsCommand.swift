import ArgumentParser
import CHOMAPI
import Foundation

extension SitesCommand {
    struct Metrics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one of a site's series over a range, with a sparkline (viewers and up).",
            discussion: """
                Read from the operator's Prometheus through the coordinator, which writes the query \
                with the site's own labels. Series: requests (per second), status (per second by \
                class), latency (the health probe's, seconds), disk (bytes), deploys (by result), \
                backups (seconds since the last succeeded one), health (1 passing, 0 failing). \
                Ranges: 1h, 6h, 24h, 7d. With --tenant, every site of that tenant, one line each.

                Example:
                  chom sites metrics example.com --series requests --range 24h
                  chom sites metrics --tenant production --series health
                """
        )

        enum Series: String, ExpressibleByArgument, CaseIterable {
            case requests, status, latency, disk, deploys, backups, health
        }

        enum Range: String, ExpressibleByArgument, CaseIterable {
            case hour = "1h", sixHours = "6h", day = "24h", week = "7d"
        }

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The site's domain or ID (not with --tenant).") var site: String?
        @Option(help: ArgumentHelp("A tenant's ID: every site of it.", valueName: "tenant")) var tenant: String?
        @Option(help: "The series.") var series: Series = .requests
        @Option(help: "The range, ending now.") var range: Range = .hour

        func validate() throws {
            guard (site == nil) != (tenant == nil) else { throw ValidationError("name a site, or a tenant with --tenant") }
        }

        func run() async throws {
            let client = try await global.client()
            let answer: MetricSeriesResponse
            if let site {
                answer = try await client.siteMetrics(site, series: series.rawValue, range: range.rawValue)
            } else {
                answer = try await client.tenantMetrics(tenant ?? "", series: series.rawValue, range: range.rawValue)
            }
            if global.json { return try Console.json(answer) }
            var table = Table(headers: ["LINE", "LAST", "MIN", "MAX", "\(answer.range) (step \(answer.stepSeconds)s)"])
            for line in answer.lines {
                let values = line.points.map(\.value)
                let name = line.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                table.append([
                    name.isEmpty ? answer.series : name, values.last.map(Sparkline.number) ?? "-",
                    values.min().map(Sparkline.number) ?? "-", values.max().map(Sparkline.number) ?? "-",
                    Sparkline.render(values, width: 48),
                ])
            }
            Console.table(table)
            if answer.lines.isEmpty { Console.error("chom: no data for \(answer.series) in the last \(answer.range)") }
        }
    }
}

/// A terminal sparkline: the values (resampled to `width`) as ▁▂▃▄▅▆▇█ between their min and max.
enum Sparkline {
    static let bars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    static func render(_ values: [Double], width: Int) -> String {
        guard !values.isEmpty, width > 0 else { return "" }
        let sampled = values.count <= width ? values : (0..<width).map { index in
            values[index * values.count / width]
        }
        let low = sampled.min() ?? 0, high = sampled.max() ?? 0
        return String(sampled.map { value in
            guard high > low else { return bars[0] }
            return bars[min(bars.count - 1, Int((value - low) / (high - low) * Double(bars.count - 1) + 0.5))]
        })
    }

    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(format: "%.3g", value)
    }
}
