import CHOMAgent
import Testing

@Suite("nginx reload: when the new configuration has taken over")
struct NginxProcessesTests {
    typealias Child = NginxProcesses.Child
    static let worker = "nginx: worker process"
    static let quitting = "nginx: worker process is shutting down"

    @Test("not before the master acted on the signal, nor while an old worker still accepts")
    func waitsForTheOldWorkers() {
        let previous: Set<Int32> = [10, 11]
        // The signal is not handled yet: the same workers.
        #expect(!NginxProcesses.reloaded([Child(pid: 10, title: Self.worker), Child(pid: 11, title: Self.worker)], previous: previous))
        // New workers run, one old one still accepts.
        #expect(!NginxProcesses.reloaded(
            [Child(pid: 10, title: Self.quitting), Child(pid: 11, title: Self.worker), Child(pid: 12, title: Self.worker)],
            previous: previous))
        // Old workers gone or shutting down, but no new worker yet.
        #expect(!NginxProcesses.reloaded([Child(pid: 10, title: Self.quitting)], previous: previous))
    }

    @Test("once every old worker quits or is gone and a new one runs")
    func takenOver() {
        let previous: Set<Int32> = [10, 11]
        #expect(NginxProcesses.reloaded(
            [Child(pid: 10, title: Self.quitting), Child(pid: 12, title: Self.worker)], previous: previous))
        #expect(NginxProcesses.reloaded([Child(pid: 13, title: Self.worker)], previous: previous))
        // A master with no worker before (just started) and one now.
        #expect(NginxProcesses.reloaded([Child(pid: 13, title: Self.worker)], previous: []))
    }
}
