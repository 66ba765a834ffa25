package import CHOMCore
import Crypto
import Foundation

/// The cursor `GET /v1/sites/{site}/logs` answers with and takes back as `after`, so that
/// `chom sites logs --follow` reads only new lines, from whichever replica it reaches.
///
/// It binds the agent's ``SiteLogPosition`` to the site, the log kind, the caller and the agent
/// that read it (a position means nothing on another agent: after a move, the route reads the
/// new agent's log from its start, with a gap). It is
/// authenticated, not secret: HMAC-SHA256 under a key derived (HKDF-SHA256, info
/// `chom-log-cursor-v1`) from a key of the coordinator's secrets key ring, which every replica
/// holds. A cursor that was altered, issued for another site, kind or caller, or sealed under a
/// key since dropped from the ring is refused (``SiteLogFollowPolicy``).
///
/// Text form: `v1.<key id>.<payload, base64url>.<tag, base64url>` (a key id may hold dots: it is
/// everything between the version and the payload); the payload is
/// `site|kind|actor|agent|device.inode.offset`, none of whose fields can hold a `|`.
package struct SiteLogCursor: Sendable, Equatable {
    package var site: SiteID
    package var kind: String
    package var actor: String
    package var agent: AgentID
    package var position: SiteLogPosition

    package init(site: SiteID, kind: String, actor: String, agent: AgentID, position: SiteLogPosition) {
        self.site = site
        self.kind = kind
        self.actor = actor
        self.agent = agent
        self.position = position
    }

    package static let maximumLength = 512
    private static let info = Data("chom-log-cursor-v1".utf8)

    package func sealed(with ring: KeyRing) -> String {
        let payload = Array(payloadText.utf8)
        let tag = HMAC<SHA256>.authenticationCode(for: payload, using: Self.macKey(ring.activeKey))
        return "v1.\(ring.activeKeyID).\(SecurityCoding.base64URL(payload)).\(SecurityCoding.base64URL(tag))"
    }

    /// The cursor `text` holds, once its tag checks out under the key it names; nil for anything
    /// else (malformed, altered, an unknown key).
    package static func open(_ text: String, with ring: KeyRing) -> SiteLogCursor? {
        guard text.utf8.count <= maximumLength else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0] == "v1",
            let key = ring.key(id: parts[1..<(parts.count - 2)].joined(separator: ".")),
            let payload = SecurityCoding.bytes(base64URL: parts[parts.count - 2]),
            let tag = SecurityCoding.bytes(base64URL: parts[parts.count - 1]),
            HMAC<SHA256>.isValidAuthenticationCode(tag, authenticating: payload, using: macKey(key))
        else { return nil }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count == 5, let site = SiteID(String(fields[0])), let agent = AgentID(String(fields[3])),
            let position = SiteLogPosition(fields[4])
        else { return nil }
        return SiteLogCursor(site: site, kind: String(fields[1]), actor: String(fields[2]), agent: agent, position: position)
    }

    private var payloadText: String {
        "\(site)|\(kind)|\(actor)|\(agent)|\(position)"
    }

    private static func macKey(_ key: SymmetricKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: info, outputByteCount: 32)
    }
}

/// Whether a follow cursor may be used for a read: only for the site, log kind and caller it
/// was issued for. Pure.
package enum SiteLogFollowPolicy {
    /// Why a cursor cannot be used for this read, or nil when it can.
    package static func refusal(_ cursor: SiteLogCursor, site: SiteID, kind: String, actor: String) -> String? {
        if cursor.site != site { return "the cursor is for another site" }
        if cursor.kind != kind { return "the cursor is for the \(cursor.kind) log, not the \(kind) log" }
        if cursor.actor != actor { return "the cursor was issued to another caller" }
        return nil
    }
}
