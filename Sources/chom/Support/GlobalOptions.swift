import ArgumentParser
import CHOMAPI
import Foundation

/// The options every command takes: where the coordinator is, the admin token, the output format.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The coordinator's admin API (default: $CHOM_COORDINATOR, else \(CoordinatorAddress.defaultAddress)).",
            valueName: "url"))
    var coordinator: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The admin bearer token (default: $CHOM_TOKEN, else ~/.config/chom/token). A flag is visible in ps: prefer the file.",
            valueName: "token"))
    var token: String?

    @Option(name: .long, help: "Output format: table or json.")
    var output: OutputFormat = .table

    var json: Bool { output == .json }

    func validate() throws {
        let text = CoordinatorAddress.text(flag: coordinator, environment: ProcessInfo.processInfo.environment)
        guard CoordinatorAddress.parse(text) != nil else {
            throw ValidationError("'\(text)' is not an http:// or https:// address of the coordinator")
        }
    }

    /// A client for the resolved address and token; warns on stderr about a token file others can read.
    func client() throws -> AdminClient {
        let environment = ProcessInfo.processInfo.environment
        let text = CoordinatorAddress.text(flag: coordinator, environment: environment)
        guard let url = CoordinatorAddress.parse(text) else {
            throw CLIError("'\(text)' is not an http:// or https:// address of the coordinator")
        }
        let resolution = AdminToken.resolve(
            flag: token, environment: environment, file: AdminToken.defaultFile(environment: environment))
        for warning in resolution.warnings { Console.error("chom: warning: \(warning)") }
        return AdminClient(baseURL: url, token: resolution.token)
    }
}
