import CHOMCore
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP/1.1 `GET` to a local port with a chosen `Host` header, as a deploy's last step asks
/// "does nginx now serve this site?". One connection, `Connection: close`, no redirects followed,
/// the body kept up to `bodyLimit` bytes; one deadline covers connect, request and response.
///
/// With `tls`, the request goes over TLS with the host as SNI, so nginx answers with the site's
/// own server block and certificate. No chain is built (this is the agent asking its own nginx on
/// loopback whether the site answers; the expiry is measured on its own,
/// `chom_site_certificate_expiry_timestamp_seconds`), but with `pinnedCertificateDER` the server
/// must present exactly that leaf: the site's own certificate, whose key only root and nginx hold.
/// So another site's server block (nginx's fallback when the site's is missing) or a process that
/// took the port cannot answer for the site.
package struct HealthCheck: Sendable {
    package struct Response: Sendable, Equatable {
        package var status: Int
        /// The first `bodyLimit` bytes of the body, as UTF-8.
        package var body: String
    }

    package var address = "127.0.0.1"
    package var port: Int
    package var expectedStatus = 200
    package var timeout: Duration = .seconds(5)
    package var bodyLimit = 64 * 1024
    /// HTTPS (TLS with SNI) instead of plain HTTP.
    package var tls = false
    /// With `tls`: the DER of the only leaf certificate the server may present.
    package var pinnedCertificateDER: [UInt8]?

    /// Client contexts for TLS checks, TLS 1.2 and up: one verifying nothing, one whose
    /// verification is the pin (a custom callback replaces BoringSSL's, and runs only when
    /// verification is not `.none`).
    private static let loopbackTLS = context(.none)
    private static let pinnedTLS = context(.noHostnameVerification)

    private static func context(_ verification: CertificateVerification) -> Result<NIOSSLContext, any Error> {
        Result {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = verification
            configuration.minimumTLSVersion = .tlsv12
            configuration.shutdownTimeout = .milliseconds(500)
            return try NIOSSLContext(configuration: configuration)
        }
    }

    package init(port: Int, expectedStatus: Int = 200, timeout: Duration = .seconds(5)) {
        self.port = port
        self.expectedStatus = expectedStatus
        self.timeout = timeout
    }

    /// The response when its status is `expectedStatus`; throws otherwise.
    package func check(host: String, path: String = "/") async throws(HealthCheckFailure) -> Response {
        let response = try await get(host: host, path: path)
        guard response.status == expectedStatus else {
            throw HealthCheckFailure(.unexpectedStatus(response.status, expected: expectedStatus))
        }
        return response
    }

    /// The response, whatever its status.
    package func get(host: String, path: String = "/") async throws(HealthCheckFailure) -> Response {
        let hostName = host.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        guard DomainName.isValid(hostName) || hostName == "localhost" || hostName.allSatisfy({ $0.isNumber || $0 == "." })
        else { throw HealthCheckFailure(.invalidRequest("host is not a DNS name")) }
        guard path.hasPrefix("/"), path.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw HealthCheckFailure(.invalidRequest("path must start with / and hold printable ASCII only"))
        }
        let target: SocketAddress
        do {
            target = try SocketAddress(ipAddress: address, port: port)
        } catch {
            throw HealthCheckFailure(.invalidRequest("\(address) is not an IP address"))
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "User-Agent", value: "chom-agent-healthcheck")
        headers.add(name: "Connection", value: "close")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)

        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = loop.makePromise(of: Response.self)
        let timeout = self.timeout
        let limit = bodyLimit
        let tlsContext: NIOSSLContext?
        do {
            tlsContext = tls ? try (pinnedCertificateDER == nil ? Self.loopbackTLS : Self.pinnedTLS).get() : nil
        } catch {
            throw HealthCheckFailure(.failed("no TLS client context: \(error)"))
        }
        let pin = pinnedCertificateDER
        let serverName = DomainName.isValid(hostName) ? hostName : nil
        let deadline = loop.scheduleTask(in: .milliseconds(timeout.wholeMilliseconds)) {
            promise.fail(HealthCheckFailure(.timedOut(timeout)))
        }
        ClientBootstrap(group: loop)
            .connectTimeout(.milliseconds(timeout.wholeMilliseconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext, let pin {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tlsContext, serverHostname: serverName) { certificates, verified in
                                let leaf = try? certificates.first?.toDERBytes()
                                verified.succeed(leaf == pin ? .certificateVerified : .failed)
                            })
                    } else if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tlsContext, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(head: head, limit: limit, promise: promise))
                }
            }
            .connect(to: target)
            .whenComplete { result in
                switch result {
                case .success(let channel): promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                case .failure(let error): promise.fail(error)
                }
            }
        do {
            let response = try await promise.futureResult.get()
            deadline.cancel()
            return response
        } catch {
            deadline.cancel()
            throw Self.failure(error, timeout: timeout)
        }
    }

    private static func failure(_ error: any Error, timeout: Duration) -> HealthCheckFailure {
        if let failure = error as? HealthCheckFailure { return failure }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED { return HealthCheckFailure(.connectionRefused) }
        if let error = error as? ChannelError, case .connectTimeout = error { return HealthCheckFailure(.timedOut(timeout)) }
        return HealthCheckFailure(.failed(String(describing: error)))
    }
}

/// Sends the request when the connection is up, collects one response, completes the promise.
/// Lives on its channel's event loop only.
private final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let head: HTTPRequestHead
    private let limit: Int
    private let promise: EventLoopPromise<HealthCheck.Response>
    private var status: Int?
    private var body: [UInt8] = []

    init(head: HTTPRequestHead, limit: Int, promise: EventLoopPromise<HealthCheck.Response>) {
        self.head = head
        self.limit = limit
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let response):
            status = Int(response.status.code)
        case .body(let buffer):
            let room = max(0, limit - body.count)
            body += buffer.readableBytesView.prefix(room)
        case .end:
            if let status { promise.succeed(HealthCheck.Response(status: status, body: String(decoding: body, as: UTF8.self))) }
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(HealthCheckFailure(.incompleteResponse))
        context.fireChannelInactive()
    }
}
