import CHOMCore
import CHOMTesting
import Foundation
import Testing

/// CHOM's Grafana dashboards (`coordinator-config/grafana/dashboards/*.json`) as the tests read
/// them. Grafana is not on Debian, so nothing here renders a panel: each dashboard's JSON is
/// walked for every panel's PromQL (`expr`, rows' nested panels included) and every query
/// variable's `label_values(SELECTOR, LABEL)`, so that the expressions can be checked as files
/// (`GrafanaDashboardFileTests`, `scripts/check-dashboards.sh`) and run against the live test's
/// Prometheus (`checkAgainst`), where each must parse and return a series unless `expectedEmpty`
/// says why it cannot.
struct GrafanaDashboards {
    /// One PromQL expression of a panel.
    struct Query: Sendable, Equatable {
        /// The panel's title ("dashboard" for an expression outside any panel).
        var panel: String
        var refId: String
        /// As written, with Grafana's template variables.
        var expr: String
    }

    /// A template variable; for a query variable, the selector and label of its `label_values`.
    struct Variable: Sendable, Equatable {
        var name: String
        /// Grafana's variable type: `query`, `custom`, `interval`…
        var type: String
        /// The variable's query as written (its `query`, else its `definition`).
        var query: String
        /// The selector inside `label_values(SELECTOR, LABEL)`; nil when the query is not of that form.
        var selector: String?
        var label: String?
        /// The `definition` Grafana shows, when there is one.
        var definition: String?
    }

    struct Dashboard: Sendable {
        var file: String
        var title: String
        var variables: [Variable]
        var queries: [Query]
        /// Every datasource the JSON names: its uid, or the whole value when that is not an object with a uid.
        var datasources: [String]

        var variableNames: [String] { variables.map(\.name) }

        /// `file#panel title/refId`, the key of `expectedEmpty`.
        func key(_ query: Query) -> String { "\(file)#\(query.panel)/\(query.refId)" }
    }

    /// What a run against a live Prometheus found: `problems` fail the test; `notes` are
    /// `expectedEmpty` entries that did return series this time (stale, or timing-dependent).
    struct LiveCheck: Sendable {
        var problems: [String] = []
        var notes: [String] = []
    }

    /// The dashboards every CHOM install gets, and the variables each must offer.
    static let required: [String: [String]] = [
        "chom-fleet.json": [], "chom-agent.json": ["agent"], "chom-tenant.json": ["tenant"],
        "chom-site.json": ["tenant", "site"],
    ]

    /// The uid of the datasource `coordinator-config/grafana/provisioning/datasources/chom.yml` provisions.
    static let datasourceUID = "chom-prometheus"

    /// Grafana's built-in variables, with the values the checks give them.
    static let builtIns = ["__rate_interval": "1m", "__interval": "15s", "__range": "1h"]

    /// Queries that return no series in the live test (one agent, one static site over plain HTTP,
    /// deployed once, no backup schedule, no failure), with the reason. Keys are `file#panel title/refId`.
    static let expectedEmpty: [String: String] = [
        "chom-fleet.json#Failovers/A": "no agent fails, so no site fails over (the counter appears with the first failover)",
        "chom-fleet.json#Failure detector transitions/A":
            "the agent stays online (agents start online; the counter appears with the first verdict change)",
        "chom-fleet.json#Failure detection delay (p90)/A": "no agent is declared failed (the histogram appears with the first)",
        "chom-fleet.json#Failover recovery (p90)/A": "no failover succeeds (the histogram appears with the first)",
        "chom-fleet.json#Failover recovery (p90)/B": "no failover succeeds (the histogram appears with the first)",
        "chom-agent.json#Disk use per site/A": siteNotWalked,
        "chom-tenant.json#Disk use per site/A": siteNotWalked,
        "chom-site.json#Disk use/A": siteNotWalked,
        "chom-tenant.json#Backup age/A": noSchedule,
        "chom-site.json#Backup age against its schedule/A": noSchedule,
        "chom-site.json#Backup age against its schedule/B": noSchedule,
        "chom-site.json#Last backup/A": "no backup of the site is taken",
        "chom-site.json#Last backup size/A": "no backup of the site is taken",
        "chom-site.json#Last backup took/A": "no backup of the site is taken",
        "chom-site.json#Last verified backup/A": "no backup of the site is verified",
        "chom-tenant.json#Certificates/A": noCertificate,
        "chom-site.json#Certificate expires in/A": noCertificate,
    ]
    private static let siteNotWalked =
        "the agent walks site trees every 60 s (SiteDiskUsageRefresher): a site deployed moments before has no chom_site_disk_bytes yet"
    private static let noSchedule = "the site has no backup schedule, so the coordinator exports no backup gauges for it"
    private static let noCertificate = "the site is served over plain HTTP: it has no certificate, so no expiry gauge"

    /// The repository, found from this file's path (as `PrometheusAlertingLiveTests` does).
    static let repositoryRoot = PrometheusAlertingLiveTests.repository

    static func directory(_ repositoryRoot: URL) -> URL {
        repositoryRoot.appendingPathComponent("coordinator-config/grafana/dashboards")
    }

    // MARK: Reading the JSON

    /// Every `*.json` in the dashboards directory, by file name.
    static func load(repositoryRoot: URL) throws -> [Dashboard] {
        let folder = directory(repositoryRoot)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        return try files.map { file in
            let data = try Data(contentsOf: folder.appendingPathComponent(file))
            guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw CHOMError(.invalidInput, "\(file) is not a JSON object")
            }
            return parse(root, file: file)
        }
    }

    static func parse(_ root: [String: Any], file: String) -> Dashboard {
        var found = Found()
        var body = root
        body["templating"] = nil
        collect(body, panel: "dashboard", into: &found)
        let list = (root["templating"] as? [String: Any])?["list"] as? [Any] ?? []
        var variables: [Variable] = []
        for case let item as [String: Any] in list {
            if let source = item["datasource"] { found.datasources.append(datasourceName(source)) }
            let definition = item["definition"] as? String
            let query = (item["query"] as? String) ?? ((item["query"] as? [String: Any])?["query"] as? String) ?? definition ?? ""
            let parsed = labelValues(query)
            variables.append(Variable(
                name: item["name"] as? String ?? "?", type: item["type"] as? String ?? "?", query: query,
                selector: parsed?.selector, label: parsed?.label, definition: definition))
        }
        return Dashboard(
            file: file, title: root["title"] as? String ?? "", variables: variables, queries: found.queries,
            datasources: found.datasources)
    }

    private struct Found {
        var queries: [Query] = []
        var datasources: [String] = []
    }

    /// Walks the JSON: an object with an `expr` is a query of the innermost panel; `panels` (the
    /// dashboard's, and a collapsed row's) name the panel each element belongs to.
    private static func collect(_ node: Any, panel: String, into found: inout Found) {
        if let object = node as? [String: Any] {
            if let expr = object["expr"] as? String {
                found.queries.append(Query(panel: panel, refId: object["refId"] as? String ?? "?", expr: expr))
            }
            for (key, child) in object.sorted(by: { $0.key < $1.key }) {
                switch key {
                case "datasource":
                    found.datasources.append(datasourceName(child))
                case "panels":
                    for item in child as? [Any] ?? [] {
                        let title = (item as? [String: Any])?["title"] as? String ?? panel
                        collect(item, panel: title, into: &found)
                    }
                default:
                    collect(child, panel: panel, into: &found)
                }
            }
        } else if let array = node as? [Any] {
            for item in array { collect(item, panel: panel, into: &found) }
        }
    }

    private static func datasourceName(_ value: Any) -> String {
        if let object = value as? [String: Any], let uid = object["uid"] as? String { return uid }
        return "\(value)"
    }

    /// `label_values(SELECTOR, LABEL)` split into its selector and label; nil for anything else
    /// (the one-argument form included: it names no series to check).
    static func labelValues(_ query: String) -> (selector: String, label: String)? {
        let text = query.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("label_values("), text.hasSuffix(")") else { return nil }
        let inside = text.dropFirst("label_values(".count).dropLast()
        guard let comma = inside.lastIndex(of: ",") else { return nil }
        let selector = inside[..<comma].trimmingCharacters(in: .whitespaces)
        let label = inside[inside.index(after: comma)...].trimmingCharacters(in: .whitespaces)
        guard !selector.isEmpty, !label.isEmpty, label.allSatisfy(isNameCharacter) else { return nil }
        return (selector, label)
    }

    // MARK: Template variables

    /// `expr` with Grafana's variable references replaced: `$name`, `${name}`, `${name:format}`,
    /// `[[name]]` and `[[name:format]]`, from `variables`, then the built-ins (`$__rate_interval`
    /// 1m, `$__interval` 15s, `$__range` 1h). A reference to anything else is left as written.
    static func substitute(_ expr: String, variables: [String: String]) -> String {
        let values = variables.merging(builtIns) { given, _ in given }
        var result = ""
        var rest = Substring(expr)
        while let index = rest.firstIndex(where: { $0 == "$" || $0 == "[" }) {
            result += rest[..<index]
            rest = rest[index...]
            if let reference = reference(at: rest), let value = values[reference.name] {
                result += value
                rest = rest.dropFirst(reference.length)
            } else {
                result.append(rest.removeFirst())
            }
        }
        result += rest
        return result
    }

    /// The variable reference `text` starts with: its name and its length in characters.
    private static func reference(at text: Substring) -> (name: String, length: Int)? {
        if text.hasPrefix("${") {
            guard let close = text.firstIndex(of: "}") else { return nil }
            let name = text[text.index(text.startIndex, offsetBy: 2)..<close].prefix { $0 != ":" }
            guard !name.isEmpty, name.allSatisfy(isNameCharacter) else { return nil }
            return (String(name), text.distance(from: text.startIndex, to: close) + 1)
        }
        if text.hasPrefix("[[") {
            guard let close = text.range(of: "]]") else { return nil }
            let name = text[text.index(text.startIndex, offsetBy: 2)..<close.lowerBound].prefix { $0 != ":" }
            guard !name.isEmpty, name.allSatisfy(isNameCharacter) else { return nil }
            return (String(name), text.distance(from: text.startIndex, to: close.upperBound))
        }
        if text.hasPrefix("$") {
            let name = text.dropFirst().prefix(while: isNameCharacter)
            guard !name.isEmpty else { return nil }
            return (String(name), name.count + 1)
        }
        return nil
    }

    private static func isNameCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "_")
    }

    // MARK: Metric names

    /// The `chom_*` names an expression reads, metric and label names alike (`isDefined` knows a
    /// histogram's `_bucket`, `_sum` and `_count` series).
    static func metricNames(in expr: String) -> Set<String> {
        Set(expr.matches(of: /chom_[a-z_]+/).map { String($0.output) })
    }

    /// Whether `name` (or, for a histogram series, its family) is spelled as a string literal somewhere in `sources`.
    static func isDefined(_ name: String, in sources: String) -> Bool {
        var candidates = [name]
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            candidates.append(String(name.dropLast(suffix.count)))
        }
        return candidates.contains { sources.contains("\"\($0)\"") }
    }

    /// Every Swift file under `Sources/`, as one text.
    static func swiftSources(repositoryRoot: URL) throws -> String {
        let root = repositoryRoot.appendingPathComponent("Sources")
        var text = ""
        for path in try FileManager.default.subpathsOfDirectory(atPath: root.path).sorted() where path.hasSuffix(".swift") {
            text += try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
        }
        return text
    }

    // MARK: Against a live Prometheus

    /// Runs every dashboard query against `stack`'s Prometheus with `variables` (e.g. `agent`,
    /// `tenant`, `site`) and the built-ins substituted. A problem: a query Prometheus refuses (or
    /// whose answer is not an instant vector), a query with no series that `expectedEmpty` does not
    /// list, a query variable that lists no value or not the value given in `variables`. A note: a
    /// query `expectedEmpty` lists that returned series after all.
    static func checkAgainst(_ stack: PrometheusStack, variables: [String: String], repositoryRoot: URL) async throws
        -> LiveCheck
    {
        var check = LiveCheck()
        for dashboard in try load(repositoryRoot: repositoryRoot) {
            for variable in dashboard.variables where variable.type == "query" {
                let key = "\(dashboard.file)#$\(variable.name)"
                guard let selector = variable.selector, let label = variable.label else {
                    check.problems.append("\(key): not label_values(SELECTOR, LABEL): \(variable.query)")
                    continue
                }
                let promql = substitute(selector, variables: variables)
                do {
                    let values = try await Set(stack.query(promql).compactMap { $0.labels[label] })
                    if values.isEmpty {
                        check.problems.append("\(key): \(promql) lists no value of \(label)")
                    } else if let chosen = variables[variable.name], !values.contains(chosen) {
                        check.problems.append("\(key): \(promql) lists \(values.sorted()), not \(chosen)")
                    }
                } catch {
                    check.problems.append("\(key): Prometheus refused \(promql): \(error)")
                }
            }
            for query in dashboard.queries {
                let key = dashboard.key(query)
                let promql = substitute(query.expr, variables: variables)
                let series: Int
                do {
                    series = try await stack.query(promql).count
                } catch {
                    check.problems.append("\(key): Prometheus refused \(promql), or its answer is not an instant vector: \(error)")
                    continue
                }
                switch (series, expectedEmpty[key]) {
                case (0, nil): check.problems.append("\(key): no series for \(promql)")
                case (0, _?): break
                case (_, let reason?): check.notes.append("\(key) returned \(series) series though listed as expected-empty (\(reason))")
                case (_, nil): break
                }
            }
        }
        return check
    }
}

/// The dashboards as files: no Prometheus needed.
@Suite("Grafana dashboards as files: variables, datasource, template substitution, metric names")
struct GrafanaDashboardFileTests {
    /// Sample values for the variables, shaped like the real ones (agent and tenant ids are UUIDs).
    static let sample = [
        "agent": "00000000-0000-4000-8000-000000000001", "tenant": "00000000-0000-4000-8000-000000000002",
        "site": "example.test",
    ]

    static func dashboards() throws -> [GrafanaDashboards.Dashboard] {
        try GrafanaDashboards.load(repositoryRoot: GrafanaDashboards.repositoryRoot)
    }

    @Test("the fleet, agent, tenant and site dashboards exist and parse, each with its variables")
    func requiredDashboards() throws {
        let dashboards = try Self.dashboards()
        for (file, names) in GrafanaDashboards.required.sorted(by: { $0.key < $1.key }) {
            let dashboard = try #require(dashboards.first(where: { $0.file == file }), "\(file) is missing")
            #expect(!dashboard.title.isEmpty && !dashboard.queries.isEmpty, "\(file): no title or no query")
            for name in names {
                #expect(dashboard.variableNames.contains(name), "\(file) has no variable \(name)")
            }
        }
    }

    @Test("every query variable is label_values(SELECTOR, LABEL), its definition the same query")
    func variablesAreLabelValues() throws {
        for dashboard in try Self.dashboards() {
            for variable in dashboard.variables where variable.type == "query" {
                #expect(variable.selector != nil, "\(dashboard.file)#$\(variable.name): \(variable.query)")
                if let definition = variable.definition {
                    #expect(definition == variable.query, "\(dashboard.file)#$\(variable.name): definition \(definition)")
                }
            }
        }
    }

    @Test("every expression is left with no template variable once substituted")
    func substitutionIsComplete() throws {
        for dashboard in try Self.dashboards() {
            var expressions: [(key: String, expr: String)] = dashboard.queries.map { (dashboard.key($0), $0.expr) }
            for variable in dashboard.variables {
                if let selector = variable.selector { expressions.append(("\(dashboard.file)#$\(variable.name)", selector)) }
            }
            for (key, expr) in expressions {
                let substituted = GrafanaDashboards.substitute(expr, variables: Self.sample)
                #expect(!substituted.contains("$") && !substituted.contains("[["), "\(key): \(substituted)")
            }
        }
    }

    @Test("every datasource is named by the uid chom-prometheus")
    func datasources() throws {
        for dashboard in try Self.dashboards() {
            #expect(!dashboard.datasources.isEmpty, "\(dashboard.file) names no datasource")
            for datasource in dashboard.datasources {
                #expect(datasource == GrafanaDashboards.datasourceUID, "\(dashboard.file): datasource \(datasource)")
            }
        }
    }

    @Test("every chom_ name a dashboard reads is spelled in Sources/")
    func metricNamesExist() throws {
        let sources = try GrafanaDashboards.swiftSources(repositoryRoot: GrafanaDashboards.repositoryRoot)
        for dashboard in try Self.dashboards() {
            let expressions = dashboard.queries.map(\.expr) + dashboard.variables.compactMap(\.selector)
            let names = expressions.reduce(into: Set<String>()) { $0.formUnion(GrafanaDashboards.metricNames(in: $1)) }
            #expect(!names.isEmpty, "\(dashboard.file) reads no chom_ series")
            for name in names.sorted() {
                #expect(GrafanaDashboards.isDefined(name, in: sources), "\(dashboard.file): \(name) is not in Sources/")
            }
        }
    }

    @Test("each query has its own panel title and refId, and expectedEmpty names only real queries")
    func keysAreUnique() throws {
        var all: Set<String> = []
        for dashboard in try Self.dashboards() {
            for query in dashboard.queries {
                let key = dashboard.key(query)
                #expect(!all.contains(key), "\(key) names two queries")
                all.insert(key)
            }
        }
        for key in GrafanaDashboards.expectedEmpty.keys.sorted() {
            #expect(all.contains(key), "expectedEmpty names \(key), which no dashboard has")
        }
    }

    @Test("substitute replaces $name, ${name}, ${name:format}, [[name]] and the built-ins, and nothing else")
    func substitution() {
        let expr = #"rate(x{a="$tenant", b="${site}", c="[[agent]]", d="${site:raw}"}[$__rate_interval]) $__interval $__range"#
        let expected = #"rate(x{a="00000000-0000-4000-8000-000000000002", b="example.test", "#
            + #"c="00000000-0000-4000-8000-000000000001", d="example.test"}[1m]) 15s 1h"#
        #expect(GrafanaDashboards.substitute(expr, variables: Self.sample) == expected)
        // Unknown names and Grafana's other built-ins stay as written, so the check above catches them.
        #expect(GrafanaDashboards.substitute("$__range_s $other x[5m] $", variables: Self.sample) == "$__range_s $other x[5m] $")
        #expect(GrafanaDashboards.substitute("$tenants", variables: Self.sample) == "$tenants")
        #expect(GrafanaDashboards.labelValues(#"label_values(up{job="chom-agents", a="x,y"}, chom_agent_id)"#)?.selector
            == #"up{job="chom-agents", a="x,y"}"#)
        #expect(GrafanaDashboards.labelValues("label_values(tenant)")?.label == nil)
        #expect(GrafanaDashboards.metricNames(in: "histogram_quantile(0.9, rate(chom_a_seconds_bucket[1m]))") == ["chom_a_seconds_bucket"])
        #expect(GrafanaDashboards.isDefined("chom_a_seconds_bucket", in: #"let name = "chom_a_seconds""#))
    }
}
