// FleetCAStore.swift
// Where the coordinator keeps its CA: `ca.pem` and `ca-key.pem` in a 0700
// directory, both files 0600.

package import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

package enum FleetCAStore {
    package static let certificateFileName = "ca.pem"
    package static let privateKeyFileName = "ca-key.pem"

    /// Loads the CA from `directory` when both files exist; creates and stores a new
    /// one when neither does. When only one exists it throws
    /// `PKIError.incompleteCAStore` rather than overwrite anything.
    package static func loadOrCreate(directory: URL, commonName: String, now: Date) throws -> FleetCA {
        try ensurePrivateDirectory(directory)
        let certificateURL = directory.appendingPathComponent(certificateFileName)
        let keyURL = directory.appendingPathComponent(privateKeyFileName)
        let haveCertificate = exists(certificateURL)
        let haveKey = exists(keyURL)

        switch (haveCertificate, haveKey) {
        case (true, true):
            let certificatePEM = try text(of: certificateURL)
            let keyPEM = try text(of: keyURL)
            return try FleetCA(certificatePEM: certificatePEM, privateKeyPEM: keyPEM)
        case (false, false):
            let ca = try FleetCA.create(commonName: commonName, now: now)
            // Key first: a crash in between leaves a lone key, which the next start refuses
            // to overwrite, instead of a certificate whose key is lost.
            try PrivateFile.write(Data(ca.privateKeyPEM.utf8), to: keyURL)
            try PrivateFile.write(Data(ca.certificatePEM.utf8), to: certificateURL)
            return ca
        case (true, false):
            throw PKIError.incompleteCAStore(directory: directory.path, missing: privateKeyFileName)
        case (false, true):
            throw PKIError.incompleteCAStore(directory: directory.path, missing: certificateFileName)
        }
    }

    /// Creates `directory` (and parents) if needed and sets it to mode 0700.
    static func ensurePrivateDirectory(_ directory: URL) throws {
        do {
            try FileManager.default.createDirectory(
                at: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw PKIError.fileSystem(operation: "create directory", path: directory.path, errno: nil)
        }
        guard chmod(directory.path, 0o700) == 0 else {
            throw PKIError.fileSystem(operation: "chmod 0700", path: directory.path, errno: errno)
        }
    }

    private static func exists(_ url: URL) -> Bool {
        var status = stat()
        return lstat(url.path, &status) == 0
    }

    private static func text(of url: URL) throws -> String {
        guard let text = String(data: try PrivateFile.read(url), encoding: .utf8) else {
            throw PKIError.invalidPEM(what: url.lastPathComponent)
        }
        return text
    }
}
