import CHOMCore
import CHOMTransport
import Foundation

/// Loads the key-encryption keys for secrets at rest: inline from the configuration, or from
/// a key file (created with one fresh key on first start, mode 0600). The active key is the
/// configured one, else the last listed, so `rotate-secrets-key` appends and re-encrypts.
enum SecretKeys {
    static func keyFile(_ configuration: CoordinatorConfiguration) -> URL {
        URL(fileURLWithPath: configuration.secrets.keyFile
            ?? URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("secrets.keys").path)
    }

    static func load(_ configuration: CoordinatorConfiguration, createIfMissing: Bool = true) throws -> KeyRing {
        do {
            if let inline = configuration.secrets.keys {
                return try KeyRing(configuration: inline, active: configuration.secrets.activeKey ?? lastKeyID(inline, separator: ","))
            }
            let file = keyFile(configuration)
            if !FileManager.default.fileExists(atPath: file.path) {
                guard createIfMissing else { throw CHOMError(.configuration, "no secrets key file at \(file.path)") }
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try PrivateFile.write(Data((try KeyRing.generateEntry(keyID: "k1") + "\n").utf8), to: file)
            }
            let text = String(decoding: try PrivateFile.read(file), as: UTF8.self)
            return try KeyRing(keyFileContents: text, active: configuration.secrets.activeKey ?? lastKeyID(text, separator: "\n"))
        } catch let error as SecretBoxError {
            throw CHOMError(.configuration, "secrets keys: \(error.description)")
        }
    }

    /// Appends a fresh key to the key file and returns its id (the new active key).
    static func appendKey(_ configuration: CoordinatorConfiguration) throws -> String {
        guard configuration.secrets.keys == nil else {
            throw CHOMError(.configuration, "the keys are inline in the configuration: add a key there and set secrets.activeKey")
        }
        guard configuration.secrets.activeKey == nil else {
            throw CHOMError(.configuration, "secrets.activeKey pins the active key: remove it to rotate with the key file")
        }
        let file = keyFile(configuration)
        let text = String(decoding: try PrivateFile.read(file), as: UTF8.self)
        let ring = try load(configuration, createIfMissing: false)
        var number = ring.keyIDs.count + 1
        while ring.keyIDs.contains("k\(number)") { number += 1 }
        let id = "k\(number)"
        let entry = try KeyRing.generateEntry(keyID: id)
        let separator = text.hasSuffix("\n") || text.isEmpty ? "" : "\n"
        try PrivateFile.write(Data((text + separator + entry + "\n").utf8), to: file)
        return id
    }

    static func lastKeyID(_ text: String, separator: Character) -> String {
        let entries = text.split(separator: separator).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        return entries.last.flatMap { $0.split(separator: ":").first.map(String.init) } ?? ""
    }
}
