// PKITestSupport.swift
// Shared fixtures for the PKI tests: fixed clocks, CSRs, temporary directories.

import CHOMTransport
import Crypto
import Foundation
import SwiftASN1
import X509

enum PKITestSupport {
    /// 2026-05-28T…Z: a fixed "now" so every test is deterministic.
    static let t0 = Date(timeIntervalSince1970: 1_780_000_000)
    static let hour: TimeInterval = 3600
    static let day: TimeInterval = 86400

    static func makeCA(_ name: String = "CHOM Fleet CA", now: Date = t0) throws -> FleetCA {
        try FleetCA.create(commonName: name, now: now)
    }

    /// A CSR that asks for SANs the coordinator must ignore.
    static func csrRequestingSANs(
        key: P256.Signing.PrivateKey,
        names: [GeneralName]
    ) throws -> CertificateSigningRequest {
        let requested = try Certificate.Extensions { SubjectAlternativeNames(names) }
        let attribute = try CertificateSigningRequest.Attribute(ExtensionRequest(extensions: requested))
        return try CertificateSigningRequest(
            version: .v1,
            subject: try DistinguishedName { CommonName("sneaky-agent") },
            privateKey: Certificate.PrivateKey(key),
            attributes: CertificateSigningRequest.Attributes([attribute]),
            signatureAlgorithm: .ecdsaWithSHA256
        )
    }

    static func issueAgent(
        by ca: FleetCA,
        agentID: UUID = UUID(),
        now: Date = t0,
        validity: TimeInterval = day
    ) throws -> Certificate {
        let key = AgentKeyPair.generate()
        let csr = try AgentKeyPair.makeCSR(privateKey: key, commonName: "agent")
        return try ca.issueAgentCertificate(csr: csr, agentID: agentID, now: now, validity: validity)
    }

    static func issueServer(
        by ca: FleetCA,
        now: Date = t0,
        validity: TimeInterval = 30 * day
    ) throws -> Certificate {
        try ca.issueServerCertificate(
            publicKey: P256.Signing.PrivateKey().publicKey,
            hostnames: ["coordinator.example"],
            ipAddresses: ["192.0.2.10", "2001:db8::1"],
            now: now,
            validity: validity
        )
    }

    /// A leaf signed directly with the CA key, with hand-picked EKU and SANs, to probe the
    /// verifier with certificates `FleetCA` itself would never issue.
    static func handMadeLeaf(
        by ca: FleetCA,
        usages: [ExtendedKeyUsage.Usage],
        names: [GeneralName],
        now: Date = t0
    ) throws -> Certificate {
        let key = P256.Signing.PrivateKey()
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now - 60, notValidAfter: now + day,
            issuer: ca.certificate.subject, subject: try DistinguishedName { CommonName("hand-made") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                try ExtendedKeyUsage(usages)
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(ca.privateKey)
        )
    }

    static func extendedKeyUsages(_ certificate: Certificate) throws -> [ExtendedKeyUsage.Usage] {
        Array(try certificate.extensions.extendedKeyUsage ?? ExtendedKeyUsage())
    }

    static func sans(_ certificate: Certificate) throws -> [GeneralName] {
        Array(try certificate.extensions.subjectAlternativeNames ?? SubjectAlternativeNames())
    }

    /// A fresh directory under the system temp dir; the caller removes it.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("chom-pki-tests-\(UUID().uuidString.lowercased())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func mode(of url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        guard let permissions = attributes[.posixPermissions] as? NSNumber else {
            throw MissingAttribute(path: url.path)
        }
        return permissions.intValue & 0o777
    }
}

struct MissingAttribute: Error {
    var path: String
}
