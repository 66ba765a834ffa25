import CHOMAgent
import CHOMTesting
import Foundation
import Glibc
import Testing

@Suite("CommandRunner runs a program with a defined environment, a bounded tail and a deadline")
struct CommandRunnerTests {
    let runner = CommandRunner()

    @Test("exit code, stdout and stderr together, stdin from /dev/null")
    func exitCodeAndOutput() async throws {
        let outcome = try await runner.run(
            CommandRunner.Command("/bin/sh", ["-c", "echo out; echo err >&2; cat; exit 3"]))
        #expect(outcome.termination == .exited(3))
        #expect(!outcome.succeeded && !outcome.timedOut)
        #expect(outcome.outputText == "out\nerr\n")
    }

    @Test("the environment is exactly the one given: nothing of the agent's leaks")
    func exactEnvironment() async throws {
        setenv("CHOM_TEST_LEAK_MARKER", "agent-secret", 1)
        let outcome = try await runner.run(
            CommandRunner.Command("/usr/bin/env", environment: ["A": "1", "LANG": "C.UTF-8"]))
        #expect(outcome.succeeded)
        #expect(outcome.outputText.split(separator: "\n").sorted() == ["A=1", "LANG=C.UTF-8"])
    }

    @Test("the working directory is set")
    func workingDirectory() async throws {
        let outcome = try await runner.run(CommandRunner.Command("/bin/pwd", workingDirectory: "/usr/share"))
        #expect(outcome.outputText == "/usr/share\n")
    }

    @Test("only the last outputLimit bytes are kept")
    func boundedTail() async throws {
        let outcome = try await runner.run(
            CommandRunner.Command(
                "/bin/sh", ["-c", "head -c 200000 /dev/zero | tr '\\0' a; printf END"], outputLimit: 16 * 1024))
        #expect(outcome.succeeded)
        #expect(outcome.output.count == 16 * 1024)
        #expect(outcome.droppedBytes == 200_003 - 16 * 1024)
        #expect(outcome.outputText.hasSuffix("aaaEND"))
    }

    @Test("past the timeout the whole group is killed, background children included, promptly")
    func timeoutKillsGroup() async throws {
        let directory = try TemporaryDirectory.make(prefix: "h-run")
        defer { TemporaryDirectory.remove(directory) }
        let pidFile = directory.appendingPathComponent("bg.pid").path
        let started = ContinuousClock.now
        let outcome = try await runner.run(
            CommandRunner.Command(
                "/bin/sh", ["-c", "sleep 100 & echo $! > \(pidFile); sleep 100"], timeout: .milliseconds(500),
                killGrace: .seconds(2)))
        let elapsed = ContinuousClock.now - started
        #expect(outcome.timedOut)
        #expect(outcome.termination == .signaled(SIGTERM))
        #expect(elapsed < .seconds(60), "took \(elapsed)")
        let background = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).filter(\.isNumber)))
        #expect(await Self.isGone(background), "background sleep \(background) survived")
    }

    @Test("a program that ignores SIGTERM gets SIGKILL after the grace")
    func killAfterGrace() async throws {
        let started = ContinuousClock.now
        let outcome = try await runner.run(
            CommandRunner.Command(
                "/bin/sh", ["-c", "trap '' TERM; sleep 100 & wait; sleep 100"], timeout: .milliseconds(300),
                killGrace: .milliseconds(500)))
        #expect(outcome.timedOut)
        #expect(outcome.termination == .signaled(SIGKILL))
        #expect(ContinuousClock.now - started < .seconds(60), "well before the 100 s sleep ends (loose: the shared test machine stalls)")
    }

    @Test("what a program leaves running in its group when it exits is killed")
    func leftoversKilled() async throws {
        let directory = try TemporaryDirectory.make(prefix: "h-run")
        defer { TemporaryDirectory.remove(directory) }
        let pidFile = directory.appendingPathComponent("bg.pid").path
        let outcome = try await runner.run(
            CommandRunner.Command("/bin/sh", ["-c", "sleep 100 & echo $! > \(pidFile); exit 0"], killGrace: .seconds(2)))
        #expect(outcome.succeeded)
        let background = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).filter(\.isNumber)))
        #expect(await Self.isGone(background))
    }

    @Test("cancelling the calling task kills the program")
    func cancellation() async throws {
        let started = ContinuousClock.now
        let task = Task { try await runner.run(CommandRunner.Command("/bin/sleep", ["100"])) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let outcome = try await task.value
        #expect(outcome.cancelled && !outcome.succeeded)
        #expect(ContinuousClock.now - started < .seconds(60), "well before the 100 s sleep ends (loose: the shared test machine stalls)")
    }

    @Test("a missing program is an error, not an outcome")
    func missingProgram() async {
        await #expect(throws: (any Error).self) {
            try await runner.run(CommandRunner.Command("/nonexistent/program"))
        }
    }

    /// No such process, or a zombie waiting for an init that does not reap.
    static func isGone(_ pid: Int32) async -> Bool {
        for _ in 0..<40 {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            if let close = stat.lastIndex(of: ")"), stat[close...].dropFirst(2).first == "Z" { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
