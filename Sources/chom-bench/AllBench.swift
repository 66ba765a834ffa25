import Foundation

/// `chom-bench all [--quick] [--skip NAME,…] [--summary FILE]`: every benchmark in one run, each a
/// child `chom-bench NAME` process (its own table printed as it goes), then one table of every
/// ratio with its goal (`BenchSummary`). A benchmark that fails is reported in the table and the
/// others still run; the exit status is 1 if any failed. `--quick` shrinks the sizes (a smoke run,
/// not figures to quote). The agent, backup, migrate and failover benchmarks need root.
enum AllBench {
    struct Step {
        var name: String
        var arguments: [String]
        var quick: [String]
    }

    /// In the order they run; the heavy ones last.
    static let steps: [Step] = [
        Step(name: "envelope", arguments: ["envelope", "20000"], quick: ["envelope", "2000"]),
        Step(name: "audit", arguments: ["audit"], quick: ["audit", "--appends", "2000", "--entries", "20000"]),
        Step(name: "api", arguments: ["api"], quick: ["api", "--sites", "1000", "--seconds", "3"]),
        Step(name: "agent", arguments: ["agent"], quick: ["agent", "--sites", "10", "--scrapes", "5", "--idle-seconds", "5"]),
        Step(name: "backup", arguments: ["backup", "--size-mb", "512", "--rounds", "2"], quick: ["backup", "--size-mb", "32", "--rounds", "1"]),
        Step(name: "billing", arguments: ["billing"], quick: ["billing", "--samples", "20000", "--organizations", "200"]),
        Step(name: "schedule", arguments: ["schedule"], quick: ["schedule", "--agents", "1000", "--sites", "10000", "--placements", "2000", "--rounds", "1"]),
        Step(name: "fleet", arguments: ["fleet", "--agents", "300", "--tasks", "3000", "--rate", "300", "--idle-seconds", "10"],
            quick: ["fleet", "--agents", "20", "--tasks", "200", "--rate", "50", "--seconds", "2", "--idle-seconds", "2"]),
        Step(name: "migrate", arguments: ["migrate", "--size-mb", "100", "--rounds", "3"], quick: ["migrate", "--size-mb", "10", "--rounds", "1"]),
        Step(name: "failover", arguments: ["failover", "--size-mb", "100"], quick: ["failover", "--size-mb", "10"]),
    ]

    static func main(_ arguments: [String]) throws {
        var options = Options(arguments)
        let quick = options.flag("--quick")
        let skip = Set((try options.optionalValue("--skip") ?? "").split(separator: ",").map(String.init))
        let summaryPath = try options.optionalValue("--summary")
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("chom-bench-summary-\(getpid()).jsonl").path
        try options.finish()
        let unknown = skip.subtracting(steps.map(\.name))
        guard unknown.isEmpty else { throw ChildFailure(description: "--skip: no benchmark named \(unknown.sorted().joined(separator: ", "))") }
        try? FileManager.default.removeItem(atPath: summaryPath)

        let me = ChildProcess.selfExecutable()
        let started = Date()
        var failures: [String] = []
        print("chom-bench all\(quick ? " --quick" : ""), \(ISO8601DateFormatter().string(from: started))")
        print("machine: \(BackupBench.machine())")
        for step in steps where !skip.contains(step.name) {
            let argv = [me] + (quick ? step.quick : step.arguments)
            print("")
            print("=== \(step.name): \(argv.dropFirst().joined(separator: " ")) " + String(repeating: "=", count: 40))
            let start = ContinuousClock.now
            do {
                _ = try ChildProcess.run([Command(
                    argv: argv, environment: [BenchSummary.environmentKey: summaryPath], inheritOutput: true)])
                print("=== \(step.name) took \(FleetBench.format(start.duration(to: .now)))")
            } catch {
                failures.append(step.name)
                print("=== \(step.name) FAILED after \(FleetBench.format(start.duration(to: .now))): \(error)")
                BenchSummary.record(BenchRatio(
                    bench: step.name, measure: "the benchmark failed", chom: "-", peer: "-", ratio: nil, goal: "runs", met: false),
                    to: summaryPath)
            }
        }
        let ratios = BenchSummary.read(summaryPath)
        print("")
        print("=== every ratio, \(ISO8601DateFormatter().string(from: started)) (took \(Int(Date().timeIntervalSince(started))) s)")
        print(BenchSummary.table(ratios))
        let goals = ratios.filter { $0.met != nil }
        print("goals met: \(goals.filter { $0.met == true }.count) of \(goals.count)")
        guard failures.isEmpty else { throw ChildFailure(description: "failed: \(failures.joined(separator: ", "))") }
    }
}
