import ArgumentParser
import CHOMAPI
import Foundation

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List the alerts of your sites (operators: and of the fleet), newest change first.",
        discussion: """
            Alerts come from Prometheus' rules through Alertmanager (coordinator-config/alerts). \
            A site's alert is shown to whoever can read the site; an agent's or the \
            coordinator's only to platform operators. Owners get an email when an alert of one of \
            their sites starts or stops firing.

            Example:
              chom alerts --firing
              chom alerts --site shop.example --output json
            """,
        aliases: ["alert"]
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Only the alerts firing now.")
    var firing = false

    @Flag(help: "Only the alerts that stopped firing.")
    var resolved = false

    @Option(help: ArgumentHelp("Only this site's alerts (domain or ID).", valueName: "site"))
    var site: String?

    @Flag(help: "Print each alert's description and runbook under it.")
    var long = false

    func validate() throws {
        if firing, resolved { throw ValidationError("--firing and --resolved exclude each other") }
    }

    func run() async throws {
        let status = firing ? "firing" : resolved ? "resolved" : nil
        let alerts = try await global.client().alerts(status: status, site: site)
        if global.json { return try Console.json(alerts) }
        var table = Table(headers: ["STATUS", "ALERT", "SEVERITY", "SITE", "SINCE", "SUMMARY"])
        for alert in alerts {
            table.append([
                alert.status, alert.alertname, alert.severity, alert.site ?? "(fleet)", alert.startsAt.formatted(.iso8601),
                alert.summary,
            ])
            if long {
                if !alert.description.isEmpty { table.append(["", "", "", "", "", "  " + alert.description]) }
                if !alert.runbook.isEmpty { table.append(["", "", "", "", "", "  runbook: " + alert.runbook]) }
            }
        }
        Console.table(table)
        if alerts.isEmpty { Console.error("chom: no alerts\(status.map { " \($0)" } ?? "")") }
    }
}
