import AsyncHTTPClient
import CHOMTesting
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `chom-bench fleet-load --url URL --token-file FILE --agents-file FILE --out FILE
///  (--tasks N --concurrency C | --rate R --seconds S)`: the load generator of `chom-bench fleet`
/// and `chom-bench salt`, in a process of its own so that the coordinator's CPU and memory are
/// measured apart from the client's (before, the admin API was driven from the coordinator's own
/// process through URLSession, whose CPU counted as the coordinator's).
///
/// `POST /v1/agents/{agent}/ping` over HTTP/1.1 keep-alive (AsyncHTTPClient), round robin over the
/// agents, each answer checked (202 with the task's id). With `--tasks`, that many with at most
/// `--concurrency` open at a time; with `--rate`, one every 1/R s for `--seconds` (at most 512
/// open). Writes to `--out`: `cpu <seconds>` (its own user + system CPU), `wall <seconds>` (first
/// request to last answer), then one queued task id a line.
enum FleetLoad {
    static func main(_ arguments: [String]) async throws {
        var options = Options(arguments)
        let url = try options.value("--url")
        let token = try String(contentsOfFile: try options.value("--token-file"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let agents = try String(contentsOfFile: try options.value("--agents-file"), encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        let out = try options.value("--out")
        let tasks = try options.optionalValue("--tasks").map { Int($0) ?? 0 }
        let concurrency = Int(try options.optionalValue("--concurrency") ?? "64") ?? 64
        let rate = try options.optionalValue("--rate").map { Int($0) ?? 0 }
        let seconds = Int(try options.optionalValue("--seconds") ?? "10") ?? 10
        try options.finish()
        guard !agents.isEmpty, !token.isEmpty, concurrency >= 1, seconds >= 1,
            (tasks ?? 1) >= 1, (rate ?? 1) >= 1, (tasks == nil) != (rate == nil)
        else { throw ChildFailure(description: "fleet-load: give --tasks N or --rate R, agents and a token") }

        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(concurrency, 512)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let ping = Ping(client: client, base: url, token: token)
        let ids = FleetBench.Shared<[String]>([])
        let start = ContinuousClock.now
        do {
            if let tasks {
                let next = FleetBench.Shared(0)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<min(concurrency, tasks) {
                        group.addTask {
                            while true {
                                let index = next.value.withLock { value -> Int in
                                    defer { value += 1 }
                                    return value
                                }
                                guard index < tasks else { return }
                                let id = try await ping(agents[index % agents.count])
                                ids.value.withLock { $0.append(id) }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            } else if let rate {
                let total = rate * seconds
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<total {
                        if index >= 512 { try await group.next() }
                        let due = start + .nanoseconds(Int64(index) * 1_000_000_000 / Int64(rate))
                        try await Task.sleep(until: due, clock: .continuous)
                        group.addTask {
                            let id = try await ping(agents[index % agents.count])
                            ids.value.withLock { $0.append(id) }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        let wall = FleetBench.inSeconds(start.duration(to: .now))
        try await client.shutdown()
        let lines = ["cpu \(FleetBench.Usage.now())", "wall \(wall)"] + ids.value.withLock { $0 }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: out))
    }

    /// One `POST /v1/agents/{agent}/ping`; the queued task's id.
    struct Ping: Sendable {
        let client: HTTPClient
        let base: String
        let token: String

        func callAsFunction(_ agent: String) async throws -> String {
            var request = HTTPClientRequest(url: "\(base)/v1/agents/\(agent)/ping")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let response = try await client.execute(request, timeout: .seconds(120))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .accepted else {
                throw ChildFailure(description: "ping of \(agent): HTTP \(response.status.code): \(String(buffer: body).prefix(500))")
            }
            struct Queued: Decodable { var id: String }
            return try JSONDecoder().decode(Queued.self, from: Data(buffer: body)).id
        }
    }

    /// Runs the load generator as a child of this process and waits for it without holding a
    /// cooperative thread; what it wrote to `--out`.
    static func run(
        url: URL, token: String, agents: [String], mode: [String], work: URL, name: String
    ) async throws -> (cpu: Double, wall: Double, ids: [String]) {
        let tokenFile = work.appendingPathComponent("\(name).token")
        let agentsFile = work.appendingPathComponent("\(name).agents")
        let out = work.appendingPathComponent("\(name).out")
        let log = work.appendingPathComponent("\(name).log")
        try Data(token.utf8).write(to: tokenFile)
        chmod(tokenFile.path, 0o600)
        try Data(agents.joined(separator: "\n").utf8).write(to: agentsFile)
        let pid = try BackgroundServer.spawn(
            ChildProcess.selfExecutable(),
            ["fleet-load", "--url", url.absoluteString, "--token-file", tokenFile.path, "--agents-file", agentsFile.path,
             "--out", out.path] + mode,
            log: log.path)
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0, errno != EINTR { throw ChildFailure(description: "waitpid: errno \(errno)") }
            try await Task.sleep(for: .milliseconds(5))
        }
        guard status == 0 else {
            throw ChildFailure(description: "the load generator failed (status \(status)): \((try? String(contentsOf: log, encoding: .utf8))?.suffix(2000) ?? "")")
        }
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n").map(String.init)
        guard lines.count >= 2, let cpu = Double(lines[0].dropFirst(4)), let wall = Double(lines[1].dropFirst(5)) else {
            throw ChildFailure(description: "the load generator wrote no figures to \(out.path)")
        }
        return (cpu, wall, Array(lines.dropFirst(2)))
    }
}
