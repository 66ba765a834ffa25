import GRPCCore
import GRPCNIOTransportHTTP2
import ServiceLifecycle

/// A gRPC server as a `Service` (grpc-swift-2 has none of its own). On graceful shutdown it stops
/// accepting connections and RPCs; with `.drain` it then waits for the RPCs in flight (unary
/// enrollments end by themselves), with `.endStreams` it ends them too: agents' Connect streams
/// never end on their own, and what they were sent stays in the durable queue, re-sent after the
/// agent reconnects to a replica that runs.
///
/// It reports the port it bound (nil when the bind failed) through `onListening`, exactly once,
/// before it honours a shutdown. The order matters: a `GRPCServer` asked to stop before `serve()`
/// has started never calls its transport's `listen()`, and then the transport's
/// `listeningAddress` never resolves; whoever waited on it would wait forever (a coordinator whose
/// other listener failed to bind hung that way in a restart test).
struct GRPCServerService: Service {
    enum Shutdown: Sendable {
        case drain
        case endStreams
    }

    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let shutdown: Shutdown
    let onListening: @Sendable (_ port: Int?) -> Void

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
            // `serve()` (started above, and nothing stops this server but this service) always
            // enters `listen()`, which resolves the address whether or not the bind succeeds.
            let port = try? await server.transport.listeningAddress.ipv4?.port
            onListening(port)
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
