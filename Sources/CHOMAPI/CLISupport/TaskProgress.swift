/// Turns successive polls of a task into the lines `chom` prints while following it: each state
/// once, in order ("queued", "sent", "accepted"), "step: <name>" whenever the step changes, then
/// "succeeded: <release path>" or "failed: <reason>". A state skipped between two polls is still
/// printed when its timestamp shows it happened.
package struct TaskProgress: Sendable {
    private var printedRank = -1
    private var lastStep: String?
    private var lastOtherState: String?
    private var finished = false

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
        switch task.state {
        case "succeeded":
            lines.append(task.releasePath.map { "succeeded: \($0)" } ?? "succeeded")
            finished = true
        case "failed":
            lines.append("failed: \(task.message.flatMap { $0.isEmpty ? nil : $0 } ?? "no reason given")")
            finished = true
        case _ where !known.contains(task.state) && task.state != lastOtherState:
            lines.append(task.state)
            lastOtherState = task.state
        default:
            break
        }
        return lines
    }
}
