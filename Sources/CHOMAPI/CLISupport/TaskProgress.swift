/// Turns successive polls of a task into the lines `chom` prints while following it: each state
/// once, in order ("queued", "sent", "accepted"), "step: <name>" whenever the step changes, each
/// new line of the agent's log tail as "  | <line>", then "succeeded: <release path>" or
/// "failed: <reason>" (with "(at step <step>)" when the agent named one). A state skipped between
/// two polls is still printed when its timestamp shows it happened.
package struct TaskProgress: Sendable {
    private var printedRank = -1
    private var lastStep: String?
    private var lastOtherState: String?
    private var finished = false
    /// The log lines already printed (the tail is a window: new lines are those after the overlap).
    private var printedLog: [Substring] = []

    package init() {}

    package mutating func lines(for task: TaskResponse) -> [String] {
        guard !finished else { return [] }
        var lines: [String] = []
        func reach(_ state: String, rank: Int) {
            guard rank > printedRank else { return }
            lines.append(state)
            printedRank = rank
        }
        let known = ["queued", "sent", "accepted", "succeeded", "failed"]
        if known.contains(task.state) { reach("queued", rank: 0) }
        if task.sentAt != nil || task.state == "sent" || task.state == "accepted" { reach("sent", rank: 1) }
        if task.acceptedAt != nil || task.state == "accepted" { reach("accepted", rank: 2) }
        if let step = task.progressStep, !step.isEmpty, step != lastStep {
            lines.append("step: \(step)")
            lastStep = step
        }
        lines += newLogLines(task.progressLog, final: task.isFinal).map { "  | \($0)" }
        switch task.state {
        case "succeeded":
            lines.append(task.releasePath.map { "succeeded: \($0)" } ?? "succeeded")
            finished = true
        case "failed":
            let step = task.failedStep.map { " (at step \($0))" } ?? ""
            lines.append("failed: \(task.message.flatMap { $0.isEmpty ? nil : $0 } ?? "no reason given")\(step)")
            finished = true
        case _ where !known.contains(task.state) && task.state != lastOtherState:
            lines.append(task.state)
            lastOtherState = task.state
        default:
            break
        }
        return lines
    }

    /// Lines of `log` not printed yet: complete lines only, unless the task is over.
    private mutating func newLogLines(_ log: String?, final: Bool) -> [Substring] {
        guard let log, !log.isEmpty else { return [] }
        var current = log.split(separator: "\n", omittingEmptySubsequences: false)
        if !final || current.last?.isEmpty == true { current.removeLast() }
        var overlap = min(printedLog.count, current.count)
        while overlap > 0, Array(printedLog.suffix(overlap)) != Array(current.prefix(overlap)) { overlap -= 1 }
        let fresh = Array(current.dropFirst(overlap))
        printedLog = current
        return fresh.filter { !$0.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" } }
    }
}
