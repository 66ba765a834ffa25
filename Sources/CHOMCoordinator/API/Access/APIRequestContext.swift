import Hummingbird
import Logging
import NIOCore

/// The admin API's request context: Hummingbird's core storage plus the peer address,
/// which the audit log and the login throttle need.
struct APIRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address, without the port ("" when unknown).
    var sourceAddress: String { remoteAddress?.ipAddress ?? "" }
}
