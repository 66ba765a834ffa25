import CHOMCoordinator
import CHOMCore
import CHOMProtocol
import Foundation
import SwiftProtobuf
import Testing

@Suite("Storage presign policy: which requests the coordinator signs for an agent")
struct StoragePresignPolicyTests {
    static let agent = AgentID()
    static let operations: [PresignedOperation] = [
        .get, .put, .createMultipartUpload, .uploadParts(uploadID: "u", partNumbers: [1, 2]),
        .completeMultipartUpload(uploadID: "u"), .abortMultipartUpload(uploadID: "u"),
    ]

    static func facts(_ kind: TaskKindName, _ state: TaskState = .accepted, key: String? = "t/s.test/b.tar.zst",
                      agent: AgentID = agent) -> StoragePresignPolicy.TaskFacts {
        .init(agent: agent, state: state, kind: kind, objectKey: key)
    }

    @Test("every kind × state × operation: writes only for backups and removals, reads only for restores and drills, only while running")
    func everyCombination() {
        for kind in TaskKindName.allCases {
            for state in TaskState.allCases {
                for operation in Self.operations {
                    let decision = StoragePresignPolicy.decide(task: Self.facts(kind, state), caller: Self.agent, operation: operation)
                    let running = state == .sent || state == .accepted
                    let kindAllows: Bool = switch kind {
                    case .backup, .remove: operation != .get
                    case .restore, .verifyBackup: operation == .get
                    default: false
                    }
                    if !running {
                        #expect(decision == .refuse(.notRunning(state)), "\(kind) \(state) \(operation)")
                    } else if kindAllows {
                        #expect(decision == .sign(objectKey: "t/s.test/b.tar.zst"), "\(kind) \(state) \(operation)")
                    } else {
                        #expect(decision == .refuse(.notAllowed(kind: kind, operation: operation.description)),
                                "\(kind) \(state) \(operation)")
                    }
                }
            }
        }
    }

    @Test("another agent's task and a missing task get the same answer; a task without a presigned object gets nothing")
    func ownershipAndObject() {
        let other = StoragePresignPolicy.decide(task: Self.facts(.backup, agent: AgentID()), caller: Self.agent, operation: .put)
        let missing = StoragePresignPolicy.decide(task: nil, caller: Self.agent, operation: .put)
        #expect(other == .refuse(.noSuchTask))
        #expect(missing == other)
        #expect(StoragePresignPolicy.decide(task: Self.facts(.backup, key: nil), caller: Self.agent, operation: .put)
            == .refuse(.noPresignedObject))
        #expect(StoragePresignPolicy.decide(task: Self.facts(.backup, key: ""), caller: Self.agent, operation: .put)
            == .refuse(.noPresignedObject))
    }

    @Test("the object is read from the stored task: backup, removal's backup, restore and drill sources; local and old destinations give none")
    func objectFromPayload() throws {
        func payload(_ fill: (inout Chom_Agent_V1_Task) -> Void) throws -> [UInt8] {
            var task = Chom_Agent_V1_Task()
            fill(&task)
            return try task.serializedBytes()
        }
        var presigned = Chom_Agent_V1_BackupDestination()
        presigned.presigned.objectKey = "t/a.test/1.tar.zst"
        var local = Chom_Agent_V1_BackupDestination()
        local.local.path = "/var/backups/chom"
        var withKeys = Chom_Agent_V1_BackupDestination()
        withKeys.s3.bucket = "b"
        #expect(StoragePresignPolicy.objectKey(ofPayload: try payload { $0.backup.destination = presigned }) == "t/a.test/1.tar.zst")
        #expect(StoragePresignPolicy.objectKey(ofPayload: try payload { $0.remove.backup.destination = presigned }) == "t/a.test/1.tar.zst")
        #expect(StoragePresignPolicy.objectKey(ofPayload: try payload { $0.restore.source = presigned }) == "t/a.test/1.tar.zst")
        #expect(StoragePresignPolicy.objectKey(ofPayload: try payload { $0.verifyBackup.source = presigned }) == "t/a.test/1.tar.zst")
        #expect(StoragePresignPolicy.objectKey(ofPayload: try payload { $0.backup.destination = local }) == nil)
        #expect(StoragePresignPolicy.objectKey(ofPayload: try payload { $0.backup.destination = withKeys }) == nil)
        #expect(StoragePresignPolicy.objectKey(ofPayload: try payload { $0.pruneBackups.destination = presigned }) == nil)
        #expect(StoragePresignPolicy.objectKey(ofPayload: try payload { $0.remove.force = true }) == nil)
        #expect(StoragePresignPolicy.objectKey(ofPayload: [0xFF, 0xFF, 0xFF]) == nil)
    }

    @Test("the wire form round-trips every operation and refuses malformed ones")
    func wire() throws {
        for operation in Self.operations {
            #expect(try PresignedOperation(operation.request(taskID: "t")) == operation)
        }
        var empty = Chom_Agent_V1_PresignStorageRequest()
        empty.taskID = "t"
        #expect(throws: CHOMError.self) { try PresignedOperation(empty) }
        var noUpload = PresignedOperation.uploadParts(uploadID: "u", partNumbers: [1]).request(taskID: "t")
        noUpload.uploadID = ""
        #expect(throws: CHOMError.self) { try PresignedOperation(noUpload) }
        let request = PresignedHTTPRequest(method: "PUT", url: "https://x/y", partNumber: 7, expiresAt: Date(timeIntervalSince1970: 1_800_000_000.5))
        #expect(PresignedHTTPRequest(request.wire) == request)
    }
}
