import CHOMCore
import CHOMProtocol
import Crypto
import Foundation
import SwiftProtobuf

/// The published golden test key and the fixed values every envelope test uses.
/// The key is public on purpose (Protocol/testdata/README.md): it must never be trusted outside tests.
enum Fixtures {
    static let keySeedPhrase = "chom golden test key v1"
    static let keySeed = Data(SHA256.hash(data: Data(keySeedPhrase.utf8)))
    static let signer = EnvelopeSigner(privateKey: privateKey(seed: keySeed))
    /// A second key that the golden opener does not trust.
    static let otherSigner = EnvelopeSigner(
        privateKey: privateKey(seed: Data(SHA256.hash(data: Data("chom golden other key v1".utf8)))))

    static let agent = agentID("00000000-0000-4000-8000-000000000001")
    static let otherAgent = agentID("00000000-0000-4000-8000-000000000002")

    static let issuedAtMs: Int64 = 1_800_000_000_000
    static let ttlSeconds: TimeInterval = 600
    static let expiresAtMs: Int64 = issuedAtMs + 600_000
    static let issuedAt = Date(unixMilliseconds: issuedAtMs)

    /// Trusts only the golden key and expects the golden agent, with the default limits.
    static let opener = EnvelopeOpener(trustedKeys: TrustedEnvelopeKeys([signer.publicKey]), expectedAgent: agent)

    /// `00000000-0000-4000-8000-000000000101` for 1, and so on.
    static func taskID(_ number: Int) -> String {
        String(format: "00000000-0000-4000-8000-%012ld", 100 + number)
    }

    static func deployTask(_ number: Int) -> Chom_Agent_V1_Task {
        var deploy = Chom_Agent_V1_DeployTask()
        deploy.siteID = "00000000-0000-4000-8000-00000000a001"
        deploy.domain = "golden.example.test"
        deploy.releaseID = "00000000-0000-4000-8000-00000000b001"
        deploy.artifactSha256 = SHA256.hash(data: Data("golden artifact \(number)".utf8)).hex
        deploy.artifactSize = 4096 + UInt64(number)
        deploy.artifactFormat = .tarZstd
        deploy.keepReleases = 5
        var task = Chom_Agent_V1_Task()
        task.taskID = taskID(number)
        task.deploy = deploy
        return task
    }

    /// `EnvelopeSealer.seal` at the fixed issue time and TTL.
    static func seal(
        _ task: Chom_Agent_V1_Task,
        sequence: UInt64,
        audience: AgentID = agent,
        signer: EnvelopeSigner = signer,
        trace: Chom_Agent_V1_TraceContext? = nil,
        now: Date = issuedAt
    ) throws -> Chom_Agent_V1_Envelope {
        try EnvelopeSealer.seal(
            task: task, audience: audience, sequence: sequence, ttl: ttlSeconds, signer: signer, now: now, trace: trace)
    }

    /// An envelope whose signature is correct for `headerBytes` and `payload`.
    static func sign(
        headerBytes: Data, payload: Data, signer: EnvelopeSigner = signer
    ) throws -> Chom_Agent_V1_Envelope {
        var envelope = Chom_Agent_V1_Envelope()
        envelope.header = headerBytes
        envelope.payload = payload
        envelope.signature = try signer.privateKey.signature(
            for: EnvelopeSigning.signedBytes(header: headerBytes, payload: payload))
        return envelope
    }

    /// Edits a sealed envelope's header and payload, then signs the result again.
    static func resign(
        _ envelope: Chom_Agent_V1_Envelope,
        signer: EnvelopeSigner = signer,
        _ edit: (inout Chom_Agent_V1_EnvelopeHeader, inout Data) throws -> Void
    ) throws -> Chom_Agent_V1_Envelope {
        var header = try header(of: envelope)
        var payload = envelope.payload
        try edit(&header, &payload)
        return try sign(headerBytes: try header.serializedBytes(), payload: payload, signer: signer)
    }

    static func header(of envelope: Chom_Agent_V1_Envelope) throws -> Chom_Agent_V1_EnvelopeHeader {
        try Chom_Agent_V1_EnvelopeHeader(serializedBytes: envelope.header)
    }

    static func open(
        _ envelope: Chom_Agent_V1_Envelope,
        now: Date = issuedAt,
        replay: inout ReplayWindow,
        opener: EnvelopeOpener = opener
    ) -> Result<OpenedEnvelope, EnvelopeRefusal> {
        Result { () throws(EnvelopeRefusal) in try opener.open(envelope, replay: &replay, now: now) }
    }

    /// "accept" or the refusal's reason, opening with a fresh replay window unless one is given.
    static func outcome(
        _ envelope: Chom_Agent_V1_Envelope, now: Date = issuedAt, replay: ReplayWindow = ReplayWindow()
    ) -> String {
        var replay = replay
        return open(envelope, now: now, replay: &replay).reason
    }

    private static func privateKey(seed: Data) -> Curve25519.Signing.PrivateKey {
        // Any 32 bytes are a valid Ed25519 seed, so this cannot fail.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    private static func agentID(_ string: String) -> AgentID {
        guard let id = AgentID(string) else { preconditionFailure("fixture agent id is not a UUID") }
        return id
    }
}

/// An envelope and the agent state to open it with: by default the golden opener at the issue
/// time, with a window that has accepted 1…4.
struct OpenAttempt {
    var envelope: Chom_Agent_V1_Envelope
    var now = Fixtures.issuedAt
    var replay = ReplayWindow(highest: 4, bitmap: 0b1111)
    var opener = Fixtures.opener

    /// The result and the replay window after opening.
    func open() -> (Result<OpenedEnvelope, EnvelopeRefusal>, ReplayWindow) {
        var window = replay
        let result = Fixtures.open(envelope, now: now, replay: &window, opener: opener)
        return (result, window)
    }
}

extension Result<OpenedEnvelope, EnvelopeRefusal> {
    /// "accept" or `EnvelopeRefusal.reason`.
    var reason: String {
        switch self {
        case .success: "accept"
        case .failure(let refusal): refusal.reason
        }
    }

    var refusal: EnvelopeRefusal? {
        if case .failure(let refusal) = self { return refusal }
        return nil
    }
}

extension Sequence<UInt8> {
    /// Lowercase hex.
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

extension Chom_Agent_V1_TaskKind {
    /// The .proto name, as cases.json spells it.
    var protoName: String {
        switch self {
        case .unspecified: "TASK_KIND_UNSPECIFIED"
        case .deploy: "TASK_KIND_DEPLOY"
        case .backup: "TASK_KIND_BACKUP"
        case .restore: "TASK_KIND_RESTORE"
        case .remove: "TASK_KIND_REMOVE"
        case .rollback: "TASK_KIND_ROLLBACK"
        case .configure: "TASK_KIND_CONFIGURE"
        case .suspend: "TASK_KIND_SUSPEND"
        case .verifyBackup: "TASK_KIND_VERIFY_BACKUP"
        case .pruneBackups: "TASK_KIND_PRUNE_BACKUPS"
        case .readSiteLogs: "TASK_KIND_READ_SITE_LOGS"
        case .ping: "TASK_KIND_PING"
        case .UNRECOGNIZED(let value): "UNRECOGNIZED(\(value))"
        }
    }
}

extension Data {
    /// Parses lowercase or uppercase hex; nil for odd lengths or other characters.
    init?(hex: String) {
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
