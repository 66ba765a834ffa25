import ArgumentParser
import CHOMAgent
import Foundation

struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Enroll this machine with a CHOM coordinator.",
        discussion: """
            Generates this agent's private key locally (it never leaves the machine), sends a \
            certificate request with the join token over TLS pinned to --ca-sha256, and stores \
            the signed certificate, the CA and the task-signing keys under <state-dir>/identity \
            (mode 0700, files 0600). Refuses to run when an identity already exists.
            """
    )

    @OptionGroup var agent: AgentOptions
    @OptionGroup var enrollment: EnrollmentOptions

    func run() async throws {
        let logger = agent.bootstrapLogging()
        do {
            let configuration = try agent.configuration()
            try await enrollment.enroll(configuration: configuration, logger: logger)
            print("enrolled; identity stored in \(configuration.identityDirectory.path)")
        } catch let error as ValidationError {
            throw error
        } catch {
            FatalLine.print(error)
            throw ExitCode.failure
        }
    }
}
