import CHOMAPI
import Foundation
import Testing

@Suite("Task progress lines")
struct TaskProgressTests {
    private let start = Date(timeIntervalSince1970: 1_800_000_000)

    private func task(
        _ state: String, step: String? = nil, sent: Bool = false, accepted: Bool = false, message: String? = nil,
        releasePath: String? = nil
    ) -> TaskResponse {
        TaskResponse(
            id: "t", kind: "deploy", state: state, agentId: "a", siteId: "s", releaseId: "r", attempts: 1,
            progressStep: step, progressLog: nil, message: message, releasePath: releasePath, createdAt: start,
            sentAt: sent ? start : nil, acceptedAt: accepted ? start : nil, finishedAt: nil)
    }

    @Test("each state and step is printed once, in order, ending with the release path")
    func fullRun() {
        var progress = TaskProgress()
        let polls = [
            task("queued"), task("queued"), task("sent", sent: true),
            task("accepted", step: "fetch", sent: true, accepted: true),
            task("accepted", step: "fetch", sent: true, accepted: true),
            task("accepted", step: "activate", sent: true, accepted: true),
            task("succeeded", step: "activate", sent: true, accepted: true, releasePath: "/srv/r1"),
            task("succeeded", step: "activate", sent: true, accepted: true, releasePath: "/srv/r1"),
        ]
        let lines = polls.flatMap { progress.lines(for: $0) }
        #expect(lines == ["queued", "sent", "accepted", "step: fetch", "step: activate", "succeeded: /srv/r1"])
    }

    @Test("states skipped between two polls are filled in from their timestamps")
    func skippedStates() {
        var progress = TaskProgress()
        #expect(progress.lines(for: task("queued")) == ["queued"])
        #expect(
            progress.lines(for: task("succeeded", step: "activate", sent: true, accepted: true, releasePath: "/p"))
                == ["sent", "accepted", "step: activate", "succeeded: /p"])
    }

    @Test("a failure prints its reason, or says there was none")
    func failure() {
        var withReason = TaskProgress()
        #expect(withReason.lines(for: task("failed", sent: true, message: "sha256 mismatch"))
            == ["queued", "sent", "failed: sha256 mismatch"])
        var withoutReason = TaskProgress()
        #expect(withoutReason.lines(for: task("failed")) == ["queued", "failed: no reason given"])
    }
}

@Suite("Task progress: the agent's log tail")
struct TaskProgressLogTests {
    private func task(_ state: String, log: String?, failedStep: String? = nil) -> TaskResponse {
        TaskResponse(
            id: "t", kind: "deploy", state: state, agentId: "a", siteId: "s", releaseId: nil, attempts: 1,
            progressStep: "build", progressLog: log, message: state == "failed" ? "hook failed" : nil, releasePath: nil,
            createdAt: Date(timeIntervalSince1970: 1_800_000_000), sentAt: nil, acceptedAt: nil, finishedAt: nil,
            failedStep: failedStep)
    }

    @Test("each complete new line of the sliding log tail is printed once; the failed step is named")
    func logTail() {
        var progress = TaskProgress()
        #expect(progress.lines(for: task("accepted", log: "npm ci\nadded 10 pack")) == [
            "queued", "sent", "accepted", "step: build", "  | npm ci",
        ])
        #expect(progress.lines(for: task("accepted", log: "npm ci\nadded 10 packages\nbuild\n")) == [
            "  | added 10 packages", "  | build",
        ])
        // The window slid: the first line fell out, one came in.
        #expect(progress.lines(for: task("accepted", log: "added 10 packages\nbuild\nerror: x\n")) == ["  | error: x"])
        #expect(progress.lines(for: task("failed", log: "added 10 packages\nbuild\nerror: x\n", failedStep: "hook:build"))
            == ["failed: hook failed (at step hook:build)"])
    }
}
