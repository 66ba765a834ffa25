import CHOMAgent
import CHOMTransport
import Foundation
import Testing

@Suite("Pure pieces")
struct PureLogicTests {
    /// SplitMix64: deterministic, so the jitter test is repeatable.
    struct SeededRandom: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("backoff ceilings double from the minimum up to the maximum, with full jitter below them")
    func backoff() {
        var backoff = ReconnectBackoff(minimum: .milliseconds(200), maximum: .seconds(30))
        var random = SeededRandom(state: 42)
        var ceilings: [Duration] = []
        var delays: [Duration] = []
        for _ in 0..<12 {
            ceilings.append(backoff.ceiling)
            delays.append(backoff.nextDelay(using: &random))
        }
        #expect(ceilings.prefix(4) == [.milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600)])
        #expect(ceilings.last == .seconds(30))
        for (delay, ceiling) in zip(delays, ceilings) {
            #expect(delay <= ceiling)
            #expect(delay >= .milliseconds(50))
        }
        // Full jitter: the late delays are spread, not all at the cap.
        #expect(Set(delays.suffix(4)).count > 1)
        backoff.reset()
        #expect(backoff.ceiling == .milliseconds(200))
    }

    @Test("renewal is due at 2/3 of the certificate's lifetime from issuance, not counting the skew backdating",
          arguments: [(2700.0, 1800.0), (60.0, 40.0), (3.0, 2.0)])
    func renewalDue(validity: Double, dueAfter: Double) throws {
        let issued = Date(timeIntervalSince1970: 1_800_000_000)
        let ca = try FleetCA.create(commonName: "CA", now: issued)
        let key = AgentKeyPair.generate()
        let certificate = try ca.issueAgentCertificate(
            csr: AgentKeyPair.makeCSR(privateKey: key, commonName: "a"), agentID: UUID(), now: issued,
            validity: validity)
        // notBefore = issued - 300 s (clock skew allowance); the lifetime counted runs from `issued`.
        let due = CertificateRenewal.dueDate(for: certificate, fraction: 2.0 / 3.0)
        #expect(abs(due.timeIntervalSince(issued) - dueAfter) < 0.001)
    }

    @Test("meminfo and loadavg parse")
    func hostFacts() {
        let memory = HostFactsReader.parseMeminfo("MemTotal:       2048000 kB\nMemFree: 1 kB\nMemAvailable:   1024000 kB\n")
        #expect(memory.total == 2_048_000 * 1024)
        #expect(memory.available == 1_024_000 * 1024)
        let load = HostFactsReader.parseLoadavg("0.52 0.40 0.33 1/123 4567\n")
        #expect(load?.0 == 0.52)
        #expect(load?.2 == 0.33)
        #expect(HostFactsReader.residentMemoryBytes() ?? 0 > 0)
    }

    @Test("disk space is df's: used plus available, root's reserve in neither")
    func diskSpace() {
        // This machine's root file system: 66,053,021 blocks, 62,201,839 free, 20,915,221 available.
        let disk = HostFactsReader.diskSpace(blocks: 66_053_021, free: 62_201_839, available: 20_915_221, fragment: 4096)
        #expect(disk.total == (3_851_182 + 20_915_221) * 4096)
        #expect(disk.free == 20_915_221 * 4096)
        let used = Double(disk.total - disk.free) / Double(disk.total)
        #expect(used > 0.15 && used < 0.16)
        // No reserve: the whole file system; nonsense counts do not wrap.
        #expect(HostFactsReader.diskSpace(blocks: 100, free: 40, available: 40, fragment: 1) == (100, 40))
        #expect(HostFactsReader.diskSpace(blocks: 10, free: 20, available: 5, fragment: 1) == (5, 5))
        #expect(HostFactsReader.diskSpace(at: URL(fileURLWithPath: "/nonexistent/sites")) != nil)
    }

    @Test("coordinator addresses parse", arguments: [
        ("coord.example:7443", "coord.example", 7443), ("127.0.0.1:1", "127.0.0.1", 1), ("[::1]:9000", "::1", 9000),
    ])
    func addresses(text: String, host: String, port: Int) {
        #expect(CoordinatorAddress(parsing: text) == CoordinatorAddress(host: host, port: port))
    }

    @Test("bad coordinator addresses are rejected", arguments: ["coord.example", ":80", "host:0", "host:99999", "a b:1"])
    func badAddresses(text: String) {
        #expect(CoordinatorAddress(parsing: text) == nil)
    }
}
