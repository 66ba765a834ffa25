import ArgumentParser
import CHOMAPI
import Foundation

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check that the coordinator's admin API answers.",
        discussion: """
            Calls GET /v1/health, which needs no token. Exits 0 when the coordinator answers, \
            1 when it cannot be reached or answers with an error.

            Example:
              chom health --coordinator http://10.0.0.5:8080
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = try await global.client(requireToken: false)
        let health = try await client.health()
        if global.json {
            try Console.json(health)
        } else {
            Console.out("coordinator \(client.baseURL.absoluteString): \(health.status)")
        }
    }
}
