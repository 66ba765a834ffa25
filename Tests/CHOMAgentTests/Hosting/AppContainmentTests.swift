import CHOMAgent
import Foundation
import Testing

@Suite("An app's processes, setsid children included, end when it is restarted or stopped",
       .enabled(if: LiveSites.isRoot, Comment(rawValue: LiveSites.rootOnly)))
struct AppContainmentTests {
    @Test("restart and stop kill everything the app started, and its cgroups are removed")
    func restartAndStop() async throws {
        let first = ContainmentProbe()
        let second = ContainmentProbe()
        try await LiveSites.with(["app-escape.test"]) { sites in
            let site = sites[0]
            let supervisor = AppSupervisor()
            defer {
                first.killSurvivors()
                second.killSurvivors()
                ContainmentProbe.removeCgroups(of: site.account.name)
            }
            func start(_ probe: ContainmentProbe) async {
                await supervisor.restart(
                    site: site.domain,
                    command: "setsid sleep \(probe.marker) > /dev/null 2>&1 & ( sleep \(probe.marker) & ) ; exec sleep \(probe.marker)",
                    account: site.account, directory: site.layout.site, environment: ["PATH": "/usr/bin:/bin"])
            }
            await start(first)
            #expect(await first.waitForRunning(3).count == 3, "\(first.survivors)")
            #expect(ContainmentProbe.cgroups(of: site.account.name).contains { $0.contains("/app-\(site.account.name)-") })
            await start(second)
            #expect(await first.allGone(), "the first start's processes survived a restart: \(first.survivors)")
            #expect(await second.waitForRunning(3).count == 3, "\(second.survivors)")
            await supervisor.stop(site: site.domain)
            #expect(await second.allGone(), "survivors of stop: \(second.survivors)")
            #expect(await ContainmentProbe.noCgroups(of: site.account.name), "\(ContainmentProbe.cgroups(of: site.account.name))")
        }
    }
}
