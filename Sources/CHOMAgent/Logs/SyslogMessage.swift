package import Foundation

/// One RFC 5424 syslog message, framed for TCP by octet counting (RFC 6587 §3.4.1: the length in
/// decimal, a space, the message), which rsyslog's imtcp and syslog-ng read as is:
///
///     <PRI>1 TIMESTAMP HOSTNAME chom-agent - MSGID [chom@32473 site="…" tenant="…" agent="…"] MSG
///
/// A `task` line adds `task="<task id>"` and, when the task came from an API request with a trace
/// context, `trace_id="<32 hex>"`, so a collector joins the agent's work to the request.
///
/// - PRI is facility local0 (16) × 8 + severity: `access` lines are informational (6), `error`
///   lines warnings (4), `task` lines informational or errors (3) by the task's outcome.
/// - MSGID says what the line is: `access`, `error` or `task`.
/// - The structured data's values escape `"`, `\` and `]` (§6.3.3); MSG is the line itself,
///   UTF-8 with control characters (C0, DEL, C1, line and paragraph separators) replaced by
///   spaces, cut so that the whole message is at most `maximumMessageBytes`: 2048, the size RFC
///   5425 has every receiver accept. A longer frame would be split by a receiver with a smaller
///   limit (rsyslog's default is 8k) and its tail read as a message of its own, forged header and all.
/// - 32473 is the private enterprise number RFC 5612 reserves for documentation; an operator
///   filters on the SD-ID `chom@32473`.
///
/// Pure: the forwarder (`LogForwarderService`) does the I/O.
package struct SyslogMessage: Sendable, Equatable {
    package enum Kind: String, Sendable, CaseIterable {
        case access, error, task
    }

    package static let maximumMessageBytes = 2_048
    package static let structuredDataID = "chom@32473"

    package var kind: Kind
    package var site: String
    package var tenant: String
    package var agent: String
    package var hostname: String
    package var time: Date
    package var failed = false
    /// For a `task` line: the task's id and the W3C trace id it was sent under.
    package var task: String?
    package var traceID: String?
    package var text: String

    package init(
        kind: Kind, site: String, tenant: String, agent: String, hostname: String, time: Date, failed: Bool = false,
        task: String? = nil, traceID: String? = nil, text: String
    ) {
        self.task = task
        self.traceID = traceID
        self.kind = kind
        self.site = site
        self.tenant = tenant
        self.agent = agent
        self.hostname = hostname
        self.time = time
        self.failed = failed
        self.text = text
    }

    package var severity: Int {
        switch kind {
        case .access: 6
        case .error: 4
        case .task: failed ? 3 : 6
        }
    }

    /// The message, without framing.
    package var formatted: String {
        let priority = 16 * 8 + severity
        let stamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(time)
        var data = "[\(Self.structuredDataID) site=\"\(Self.escape(site))\" tenant=\"\(Self.escape(tenant))\" agent=\"\(Self.escape(agent))\""
        if let task { data += " task=\"\(Self.escape(task))\"" }
        if let traceID { data += " trace_id=\"\(Self.escape(traceID))\"" }
        data += "]"
        let head = "<\(priority)>1 \(stamp) \(Self.header(hostname)) chom-agent - \(kind.rawValue) \(data) "
        return head + Self.clean(text, maximumBytes: max(0, Self.maximumMessageBytes - head.utf8.count))
    }

    /// The message framed for TCP: `<length> <message>`.
    package var framed: [UInt8] {
        let bytes = Array(formatted.utf8)
        return Array("\(bytes.count) ".utf8) + bytes
    }

    /// A header field: printable US-ASCII without spaces, at most 255 characters, "-" if empty.
    static func header(_ text: String) -> String {
        let printable = String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }).prefix(255))
        return printable.isEmpty ? "-" : printable
    }

    /// A structured data parameter value (§6.3.3), escaped scalar by scalar (a `"` followed by a
    /// combining mark is still a `"`), at most 255 bytes.
    static func escape(_ text: String) -> String {
        var escaped = String.UnicodeScalarView()
        for scalar in clean(text, maximumBytes: 255).unicodeScalars {
            if scalar == "\"" || scalar == "\\" || scalar == "]" { escaped.append("\\") }
            escaped.append(scalar)
        }
        return String(escaped)
    }

    /// One line of at most `maximumBytes` UTF-8 bytes: control characters other than tab become spaces.
    static func clean(_ text: String, maximumBytes: Int) -> String {
        var scalars = String.UnicodeScalarView()
        var bytes = 0
        for scalar in text.unicodeScalars {
            let control = (scalar.value < 32 && scalar != "\t") || (0x7F...0x9F).contains(scalar.value)
                || scalar.value == 0x2028 || scalar.value == 0x2029
            let kept: Unicode.Scalar = control ? " " : scalar
            bytes += kept.utf8.count
            if bytes > maximumBytes { break }
            scalars.append(kept)
        }
        return String(scalars)
    }
}
