import CHOMCore
package import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A tiny HTTP/1.1 server for Prometheus: `GET /metrics` answers 200 with the exposition text,
/// anything else 404. Runs until cancelled or gracefully shut down.
package final class MetricsServer: Service, Sendable {
    package let host: String
    package let requestedPort: Int
    private let render: @Sendable () -> [UInt8]
    private let logger: Logger
    private let bound = AsyncOnce<Int>()

    package init(host: String, port: Int, logger: Logger, render: @escaping @Sendable () -> [UInt8]) {
        self.host = host
        self.requestedPort = port
        self.logger = logger
        self.render = render
    }

    /// The port actually bound (useful with port 0), once `run` has bound it.
    package var boundPort: Int? { bound.current }

    /// Waits until `run` has bound the port; nil when it could not, or once it has ended.
    package func waitForPort() async -> Int? {
        await bound.value()
    }

    package func run() async throws {
        let render = self.render
        // Whatever ends the run, nobody waits for the port any longer.
        defer { bound.close() }
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(render: render))
                }
            }
            .bind(host: host, port: requestedPort)
            .get()
        let port = channel.localAddress?.port ?? requestedPort
        bound.set(port)
        logger.info("metrics listening", metadata: [LogKey.address: "\(host):\(port)"])
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

/// One HTTP connection: answers each request once its end arrives.
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let render: @Sendable () -> [UInt8]
    private var head: HTTPRequestHead?

    init(render: @escaping @Sendable () -> [UInt8]) {
        self.render = render
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let found = path == "/metrics" && (head.method == .GET || head.method == .HEAD)
        let body: [UInt8] = found ? render() : Array("not found\n".utf8)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain")
        headers.add(name: "Content-Length", value: String(body.count))
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let responseHead = HTTPResponseHead(version: head.version, status: found ? .ok : .notFound, headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}
