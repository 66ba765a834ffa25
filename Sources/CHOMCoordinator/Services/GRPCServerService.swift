import GRPCCore
import ServiceLifecycle

/// A gRPC server as a `Service` (grpc-swift-2 has none of its own). On graceful shutdown it stops
/// accepting connections and RPCs; with `.drain` it then waits for the RPCs in flight (unary
/// enrollments end by themselves), with `.endStreams` it ends them too: agents' Connect streams
/// never end on their own, and what they were sent stays in the durable queue, re-sent after the
/// agent reconnects to a replica that runs.
struct GRPCServerService<Transport: ServerTransport>: Service {
    enum Shutdown: Sendable {
        case drain
        case endStreams
    }

    let server: GRPCServer<Transport>
    let shutdown: Shutdown

    private enum Event: Sendable {
        case served
        case shutdownRequested
    }

    func run() async throws {
        let server = server
        try await withThrowingTaskGroup(of: Event.self) { group in
            group.addTask {
                try await server.serve()
                return .served
            }
            group.addTask {
                // Returns on graceful shutdown, throws on cancellation: both stop the server.
                try? await gracefulShutdown()
                return .shutdownRequested
            }
            guard try await group.next() == .shutdownRequested else {
                group.cancelAll()
                return
            }
            server.beginGracefulShutdown()
            switch shutdown {
            case .drain:
                while try await group.next() != nil {}
            case .endStreams:
                // The cancellation is this service's own: the server's error about it is expected.
                group.cancelAll()
                while (try? await group.next()) != nil {}
            }
        }
    }
}
