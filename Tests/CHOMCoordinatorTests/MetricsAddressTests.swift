@testable import CHOMCoordinator
import Testing

@Suite("Metrics address for service discovery")
struct MetricsAddressTests {
    @Test("wildcard hosts become the stream's peer address; bad input gives nothing", arguments: [
        ("0.0.0.0:9464", "ipv4:10.0.0.5:41234", "10.0.0.5:9464"),
        (":9464", "ipv4:127.0.0.1:5000", "127.0.0.1:9464"),
        ("[::]:9464", "ipv6:[::1]:5000", "[::1]:9464"),
        ("127.0.0.1:19001", "ipv4:127.0.0.1:5000", "127.0.0.1:19001"),
        ("vps1.example.com:9464", "ipv4:1.2.3.4:5", "vps1.example.com:9464"),
        ("", "ipv4:127.0.0.1:5000", ""),
        ("host:0", "ipv4:127.0.0.1:5000", ""),
        ("host:99999", "ipv4:127.0.0.1:5000", ""),
        ("0.0.0.0:9464", "unix:/tmp/x", ""),
    ])
    func resolve(reported: String, peer: String, expected: String) {
        #expect(MetricsAddress.resolve(reported: reported, remotePeer: peer) == expected)
    }
}
