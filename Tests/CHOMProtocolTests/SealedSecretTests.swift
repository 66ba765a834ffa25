import CHOMCore
import CHOMProtocol
import Crypto
import Foundation
import SwiftProtobuf
import Testing

/// Secrets in tasks sealed to one agent with HPKE (Protocol/README.md, "Sealed secrets").
@Suite("Sealed secrets")
struct SealedSecretTests {
    static let taskID = "00000000-0000-4000-8000-000000000001"
    static let agent = "00000000-0000-4000-8000-0000000000aa"
    static let pem = "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n"

    static func configureTask(taskID: String = taskID) -> Chom_Agent_V1_Task {
        var task = Chom_Agent_V1_Task()
        task.taskID = taskID
        var site = Chom_Agent_V1_SiteConfig()
        site.domain = "example.test"
        site.tls.certificateChainPem = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"
        site.tls.privateKeyPem = pem
        task.configure.site = site
        return task
    }

    static func backupTask() -> Chom_Agent_V1_Task {
        var task = Chom_Agent_V1_Task()
        task.taskID = taskID
        var backup = Chom_Agent_V1_BackupTask()
        backup.site.domain = "example.test"
        backup.encryptionKey = Data(repeating: 7, count: 32)
        backup.destination.s3.bucket = "b"
        backup.destination.s3.secretAccessKey = "s3-secret"
        backup.database.password = "db-secret"
        task.remove.backup = backup
        return task
    }

    @Test("a sealed task holds no secret in clear and opens to the original for its agent")
    func roundTrip() throws {
        let key = Curve25519.KeyAgreement.PrivateKey()
        for original in [Self.configureTask(), Self.backupTask()] {
            var task = original
            #expect(TaskSecrets.hasClearSecret(task))
            try TaskSecrets.seal(&task, to: key.publicKey, audience: Self.agent)
            #expect(!TaskSecrets.hasClearSecret(task))
            #expect(TaskSecrets.hasSealedSecret(task))
            let bytes: [UInt8] = try task.serializedBytes()
            for secret in [Self.pem, "s3-secret", "db-secret"] {
                #expect(!Data(bytes).contains(Data(secret.utf8)), "\(secret) travels in clear")
            }
            #expect(!Data(bytes).contains(Data(repeating: 7, count: 32)))
            var received = try Chom_Agent_V1_Task(serializedBytes: bytes)
            try TaskSecrets.open(&received, with: key, audience: Self.agent)
            #expect(received == original)
        }
    }

    @Test("another agent's key does not open it")
    func wrongKey() throws {
        var task = Self.configureTask()
        try TaskSecrets.seal(&task, to: Curve25519.KeyAgreement.PrivateKey().publicKey, audience: Self.agent)
        var copy = task
        #expect(throws: SealedSecretError.self) {
            try TaskSecrets.open(&copy, with: Curve25519.KeyAgreement.PrivateKey(), audience: Self.agent)
        }
        // Even with the key id forged to match, the HPKE open fails.
        let other = Curve25519.KeyAgreement.PrivateKey()
        task.configure.site.tls.sealedPrivateKey.keyID = SecretSealing.keyID(of: other.publicKey)
        #expect(throws: SealedSecretError.self) { try TaskSecrets.open(&task, with: other, audience: Self.agent) }
        #expect(throws: SealedSecretError.self) {
            var keyless = Self.configureTask()
            try TaskSecrets.seal(&keyless, to: other.publicKey, audience: Self.agent)
            try TaskSecrets.open(&keyless, with: nil, audience: Self.agent)
        }
    }

    @Test("a sealed secret moved to another task, agent or field does not open")
    func boundToTaskAgentAndField() throws {
        let key = Curve25519.KeyAgreement.PrivateKey()
        var sealed = Self.configureTask()
        try TaskSecrets.seal(&sealed, to: key.publicKey, audience: Self.agent)
        let box = sealed.configure.site.tls.sealedPrivateKey

        var otherTask = Self.configureTask(taskID: "00000000-0000-4000-8000-000000000002")
        otherTask.configure.site.tls.privateKeyPem = ""
        otherTask.configure.site.tls.sealedPrivateKey = box
        #expect(throws: SealedSecretError.self) { try TaskSecrets.open(&otherTask, with: key, audience: Self.agent) }

        var otherAgent = sealed
        #expect(throws: SealedSecretError.self) {
            try TaskSecrets.open(&otherAgent, with: key, audience: "00000000-0000-4000-8000-0000000000bb")
        }

        var otherField = Chom_Agent_V1_Task()
        otherField.taskID = Self.taskID
        otherField.backup.destination.s3.sealedSecretAccessKey = box
        #expect(throws: SealedSecretError.self) { try TaskSecrets.open(&otherField, with: key, audience: Self.agent) }
    }

    @Test("an altered ciphertext or encapsulated key does not open", arguments: [0, 1])
    func tampered(part: Int) throws {
        let key = Curve25519.KeyAgreement.PrivateKey()
        var task = Self.configureTask()
        try TaskSecrets.seal(&task, to: key.publicKey, audience: Self.agent)
        var box = task.configure.site.tls.sealedPrivateKey
        if part == 0 { box.ciphertext[box.ciphertext.startIndex + 3] ^= 0x01 } else { box.enc[box.enc.startIndex] ^= 0x01 }
        task.configure.site.tls.sealedPrivateKey = box
        #expect(throws: SealedSecretError.self) { try TaskSecrets.open(&task, with: key, audience: Self.agent) }
    }

    @Test("a task without secrets is left as it is, and an absent site stays absent")
    func noSecrets() throws {
        var task = Chom_Agent_V1_Task()
        task.taskID = Self.taskID
        task.deploy.releaseID = "r"
        let original = task
        try TaskSecrets.seal(&task, to: Curve25519.KeyAgreement.PrivateKey().publicKey, audience: Self.agent)
        #expect(task == original)
        #expect(!task.deploy.hasSite)
        #expect(!TaskSecrets.hasClearSecret(task))
    }

    @Test("the published golden vector (Protocol/testdata/sealed_secret_v1.json) opens")
    func goldenVector() throws {
        let url = GoldenCatalog.directory.appendingPathComponent("sealed_secret_v1.json")
        let vector = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: url))
        func hex(_ name: String) throws -> Data {
            let text = try #require(vector[name])
            return Data(try #require(Hex.decode(text)))
        }
        let key = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: try hex("recipient_private_key_hex"))
        #expect(key.publicKey.rawRepresentation == (try hex("recipient_public_key_hex")))
        #expect(SecretSealing.keyID(of: key.publicKey) == vector["key_id"])
        #expect(vector["info"] == String(decoding: SecretSealing.info, as: UTF8.self))
        let taskID = try #require(vector["task_id"])
        let agent = try #require(vector["audience_agent_id"])
        let field = try #require(vector["field"])
        #expect(SecretSealing.aad(taskID: taskID, audience: agent, field: field) == (try hex("aad_hex")))
        var sealed = Chom_Agent_V1_SealedSecret()
        sealed.enc = try hex("enc_hex")
        sealed.ciphertext = try hex("ciphertext_hex")
        sealed.keyID = try #require(vector["key_id"])
        let opened = try SecretSealing.open(sealed, with: key, taskID: taskID, audience: agent, field: field)
        #expect(String(decoding: opened, as: UTF8.self) == vector["plaintext"])
        // The same bytes in a task open through TaskSecrets too.
        var task = Chom_Agent_V1_Task()
        task.taskID = taskID
        task.configure.site.tls.sealedPrivateKey = sealed
        try TaskSecrets.open(&task, with: key, audience: agent)
        #expect(task.configure.site.tls.privateKeyPem == vector["plaintext"])
        #expect(!task.configure.site.tls.hasSealedPrivateKey)
    }
}
