// FleetCAStoreTests.swift
// On-disk CA storage and the 0600 private-file writer.

import CHOMTransport
import Crypto
import Foundation
import Testing

@Suite("CA store and private files")
struct FleetCAStoreTests {
    typealias S = PKITestSupport

    @Test("the first call creates ca.pem and ca-key.pem with mode 0600 in a 0700 directory; the second loads the same CA")
    func loadOrCreate() throws {
        let root = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = root.appendingPathComponent("ca")

        let created = try FleetCAStore.loadOrCreate(directory: directory, commonName: "CHOM Fleet CA", now: S.t0)
        let certURL = directory.appendingPathComponent("ca.pem")
        let keyURL = directory.appendingPathComponent("ca-key.pem")
        #expect(try S.mode(of: certURL) == 0o600)
        #expect(try S.mode(of: keyURL) == 0o600)
        #expect(try S.mode(of: directory) == 0o700)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["ca-key.pem", "ca.pem"])

        let loaded = try FleetCAStore.loadOrCreate(directory: directory, commonName: "ignored", now: S.t0 + S.day)
        let loadedAgain = try FleetCAStore.loadOrCreate(directory: directory, commonName: "ignored", now: S.t0 + 2 * S.day)
        #expect(loaded.fingerprintSHA256 == created.fingerprintSHA256)
        #expect(loadedAgain.fingerprintSHA256 == created.fingerprintSHA256)
        #expect(loaded.privateKey.rawRepresentation == created.privateKey.rawRepresentation)
    }

    @Test("a store holding only the key is refused instead of overwritten")
    func incompleteStore() throws {
        let directory = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyURL = directory.appendingPathComponent("ca-key.pem")
        let original = try S.makeCA().privateKeyPEM
        try PrivateFile.write(Data(original.utf8), to: keyURL)

        #expect(throws: PKIError.incompleteCAStore(directory: directory.path, missing: "ca.pem")) {
            try FleetCAStore.loadOrCreate(directory: directory, commonName: "CHOM Fleet CA", now: S.t0)
        }
        #expect(try PrivateFile.read(keyURL) == Data(original.utf8))
    }

    @Test("PrivateFile writes 0600, replaces a 0644 file atomically and leaves no temporary files")
    func privateFile() throws {
        let directory = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("agent-key.pem")

        try PrivateFile.write(Data("first".utf8), to: url)
        #expect(try S.mode(of: url) == 0o600)
        #expect(try PrivateFile.read(url) == Data("first".utf8))

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: url.path)
        let large = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0) })
        try PrivateFile.write(large, to: url)
        #expect(try S.mode(of: url) == 0o600)
        #expect(try PrivateFile.read(url) == large)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["agent-key.pem"])
    }

    @Test("PrivateFile reports a missing file or directory as a typed error naming the path")
    func privateFileErrors() throws {
        let directory = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("nope/key.pem")
        let readError = #expect(throws: PKIError.self) { try PrivateFile.read(missing) }
        #expect(readError?.description.contains(missing.path) == true)
        #expect(throws: PKIError.self) { try PrivateFile.write(Data("x".utf8), to: missing) }
    }
}
