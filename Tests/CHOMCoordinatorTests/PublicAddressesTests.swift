@testable import CHOMCoordinator
import Testing

@Suite("An agent's public addresses: reported IP literals, never internal ones unless allowed")
struct PublicAddressesTests {
    @Test("internal addresses an agent reports are dropped, public and private ones kept", arguments: [
        ("127.0.0.1", false), ("127.9.9.9", false), ("0.0.0.0", false), ("169.254.169.254", false), ("224.0.0.1", false),
        ("255.255.255.255", false), ("::1", false), ("::", false), ("fe80::1", false), ("ff02::1", false),
        ("::ffff:127.0.0.1", false), ("::ffff:169.254.169.254", false),
        ("203.0.113.7", true), ("198.18.0.11", true), ("10.0.0.5", true), ("192.168.1.2", true), ("2001:db8::7", true),
        ("::ffff:203.0.113.7", true),
    ])
    func filtered(address: String, kept: Bool) {
        let resolved = PublicAddresses.resolve(reported: [address], remotePeer: "ipv4:198.51.100.9:4000")
        // Dropped, the stream's own address stands in.
        #expect(resolved == (kept ? [address] : ["198.51.100.9"]))
        #expect(PublicAddresses.resolve(reported: [address], remotePeer: "ipv4:198.51.100.9:4000", allowInternal: true) == [address])
    }

    @Test("a loopback stream peer is no public address either, unless allowed")
    func peerFallback() {
        #expect(PublicAddresses.resolve(reported: [], remotePeer: "ipv4:127.0.0.1:5000").isEmpty)
        #expect(PublicAddresses.resolve(reported: ["not an address"], remotePeer: "ipv4:127.0.0.1:5000", allowInternal: true) == ["127.0.0.1"])
        #expect(PublicAddresses.resolve(reported: [], remotePeer: "ipv6:[2001:db8::1]:5000") == ["2001:db8::1"])
    }

    @Test("the HTTP port: 1–65535 as reported, else 80")
    func port() {
        #expect(PublicAddresses.httpPort(8080) == 8080)
        #expect(PublicAddresses.httpPort(0) == 80)
        #expect(PublicAddresses.httpPort(70_000) == 80)
    }
}
