// CAPinTests.swift
// First-contact verification of the coordinator by an agent holding only the CA pin.

import CHOMTransport
import Crypto
import Foundation
import SwiftASN1
import Testing
import X509

@Suite("CA pinning")
struct CAPinTests {
    typealias S = PKITestSupport

    @Test("a server certificate verifies with the right pin, for its hostname and its IPs, and returns the CA")
    func rightPin() async throws {
        let ca = try S.makeCA()
        let leaf = try S.issueServer(by: ca)
        for target in ["coordinator.example", "192.0.2.10", "2001:db8::1", nil] as [String?] {
            let result = await CAPin.verify(
                presentedChain: [leaf, ca.certificate], pinnedSHA256: ca.fingerprintSHA256,
                hostnameOrIP: target, now: S.t0 + S.hour
            )
            #expect(try result.get() == ca.certificate, "target \(target ?? "nil")")
        }
    }

    @Test("the pin is accepted in upper case with colons, and a malformed pin is refused")
    func pinFormats() async throws {
        let ca = try S.makeCA()
        let leaf = try S.issueServer(by: ca)
        var colonUpper = ""
        for (index, character) in ca.fingerprintSHA256.uppercased().enumerated() {
            if index > 0, index % 2 == 0 { colonUpper.append(":") }
            colonUpper.append(character)
        }
        let ok = await CAPin.verify(presentedChain: [leaf, ca.certificate], pinnedSHA256: colonUpper,
                                    hostnameOrIP: nil, now: S.t0)
        #expect(try ok.get() == ca.certificate)
        let bad = await CAPin.verify(presentedChain: [leaf, ca.certificate], pinnedSHA256: "abc123",
                                     hostnameOrIP: nil, now: S.t0)
        #expect(bad == .failure(.malformedPin))
    }

    @Test("a wrong pin fails")
    func wrongPin() async throws {
        let ca = try S.makeCA()
        let leaf = try S.issueServer(by: ca)
        let otherPin = try S.makeCA().fingerprintSHA256
        let result = await CAPin.verify(presentedChain: [leaf, ca.certificate], pinnedSHA256: otherPin,
                                        hostnameOrIP: "coordinator.example", now: S.t0)
        #expect(result == .failure(.pinnedCANotPresented(pinnedSHA256: otherPin)))
    }

    @Test("a leaf signed by another CA fails even when the pinned CA is presented alongside")
    func leafFromAnotherCA() async throws {
        let pinned = try S.makeCA()
        let impostor = try S.makeCA()  // same subject name, different key
        let leaf = try S.issueServer(by: impostor)
        let result = await CAPin.verify(presentedChain: [leaf, pinned.certificate], pinnedSHA256: pinned.fingerprintSHA256,
                                        hostnameOrIP: "coordinator.example", now: S.t0)
        #expect(result == .failure(.leafNotIssuedByPinnedCA))
    }

    @Test("an expired server certificate fails")
    func expiredLeaf() async throws {
        let ca = try S.makeCA()
        let leaf = try S.issueServer(by: ca, now: S.t0, validity: S.day)
        let result = await CAPin.verify(presentedChain: [leaf, ca.certificate], pinnedSHA256: ca.fingerprintSHA256,
                                        hostnameOrIP: "coordinator.example", now: S.t0 + 2 * S.day)
        #expect(result == .failure(.leafExpired(notValidAfter: leaf.notValidAfter)))
        #expect(result.failureDescription?.contains("expired") == true)
    }

    @Test("an agent (clientAuth-only) certificate cannot pass as the server")
    func clientCertificateAsServer() async throws {
        let ca = try S.makeCA()
        let agent = try S.issueAgent(by: ca)
        let result = await CAPin.verify(presentedChain: [agent, ca.certificate], pinnedSHA256: ca.fingerprintSHA256,
                                        hostnameOrIP: nil, now: S.t0)
        #expect(result == .failure(.leafNotServerCertificate))
    }

    @Test("a server certificate for another name fails")
    func nameMismatch() async throws {
        let ca = try S.makeCA()
        let leaf = try S.issueServer(by: ca)
        for target in ["other.example", "192.0.2.11"] {
            let result = await CAPin.verify(presentedChain: [leaf, ca.certificate], pinnedSHA256: ca.fingerprintSHA256,
                                            hostnameOrIP: target, now: S.t0)
            #expect(result == .failure(.nameMismatch(expected: target)))
        }
    }

    @Test("an empty chain, and a pin that matches a non-CA certificate, fail")
    func emptyChainAndNonCAPin() async throws {
        let ca = try S.makeCA()
        let leaf = try S.issueServer(by: ca)
        let empty = await CAPin.verify(presentedChain: [], pinnedSHA256: ca.fingerprintSHA256, hostnameOrIP: nil, now: S.t0)
        #expect(empty == .failure(.emptyChain))
        let leafPin = FleetCA.fingerprintSHA256(ofDER: try Self.der(leaf))
        let result = await CAPin.verify(presentedChain: [leaf, ca.certificate], pinnedSHA256: leafPin,
                                        hostnameOrIP: nil, now: S.t0)
        #expect(result == .failure(.pinnedCertificateNotCA))
    }

    static func der(_ certificate: Certificate) throws -> [UInt8] {
        try certificate.serializeAsPEM().derBytes
    }
}

extension Result where Failure == PinError {
    var failureDescription: String? {
        if case .failure(let error) = self { return error.description }
        return nil
    }
}
