import CHOMCoordinator
import CHOMCore
import CHOMProtocol
import Foundation
import SwiftProtobuf
import Testing

@Suite("A waiting task's payload, sealed at rest")
struct QueuedTaskPayloadTests {
    let box = try! SecretBox(keyRing: KeyRing(configuration: "2026-01:\(Data(repeating: 0x33, count: 32).base64EncodedString())", active: "2026-01"))

    func task(withKey pem: String) throws -> [UInt8] {
        var configure = Chom_Agent_V1_ConfigureSiteTask()
        configure.site.domain = "sealed.test"
        configure.site.tls.privateKeyPem = pem
        var task = Chom_Agent_V1_Task()
        task.taskID = TaskID().description
        task.configure = configure
        return try task.serializedBytes()
    }

    @Test("sealed, it holds no byte of the secret and opens to the same task; a clear payload passes as it is")
    func roundTrip() throws {
        let id = TaskID()
        let clear = try task(withKey: "-----BEGIN PRIVATE KEY-----\nSECRET-KEY-LINE\n-----END PRIVATE KEY-----\n")
        let sealed = QueuedTaskPayload.seal(clear, box: box, task: id)
        #expect(QueuedTaskPayload.isSealedAtRest(sealed))
        #expect(!QueuedTaskPayload.isSealedAtRest(clear))
        #expect(!Data(sealed).contains(Data("SECRET-KEY-LINE".utf8)))
        #expect(try QueuedTaskPayload.open(sealed, box: box, task: id) == clear)
        #expect(try QueuedTaskPayload.open(clear, box: box, task: id) == clear)
    }

    @Test("copied to another task's row, or opened with another key of the same id, it does not open; an unknown key id says so")
    func boundToItsTask() throws {
        let id = TaskID()
        let sealed = QueuedTaskPayload.seal(try task(withKey: "k"), box: box, task: id)
        #expect(throws: SecretBoxError.authenticationFailed) { try QueuedTaskPayload.open(sealed, box: box, task: TaskID()) }
        let other = try SecretBox(keyRing: KeyRing(configuration: "2026-01:\(Data(repeating: 0x44, count: 32).base64EncodedString())", active: "2026-01"))
        #expect(throws: SecretBoxError.authenticationFailed) { try QueuedTaskPayload.open(sealed, box: other, task: id) }
        let rotated = try SecretBox(keyRing: KeyRing(configuration: "2027-01:\(Data(repeating: 0x55, count: 32).base64EncodedString())", active: "2027-01"))
        #expect(throws: SecretBoxError.unknownKeyID("2026-01")) { try QueuedTaskPayload.open(sealed, box: rotated, task: id) }
    }
}
