import ArgumentParser

@main
struct ChomAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chom-agent",
        abstract: "The CHOM agent: one per VPS, driven by the CHOM coordinator.",
        discussion: """
            The agent enrolls once with a join token, then dials the coordinator and holds a \
            gRPC stream over mutual TLS. It runs the signed tasks it receives (site deploys), \
            reports back, and serves Prometheus metrics on /metrics.

            Typical use:
              CHOM_JOIN_TOKEN=… chom-agent enroll --coordinator coord.example:7443 --ca-sha256 <hex>
              chom-agent run
            """,
        subcommands: [EnrollCommand.self, RunCommand.self]
    )
}
