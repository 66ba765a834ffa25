package import Foundation

/// The canonical encoding of an audit entry: the bytes its hash covers. Version 1:
///
///     "chom-audit-entry-v1" 0x00       domain tag (20 bytes)
///     sequence                         8 bytes, big-endian two's complement
///     time                             string: RFC 3339 UTC with milliseconds (AuditTimestamp)
///     actor                            string
///     organizationID                   optional string
///     tenantID                         optional string
///     action                           string
///     target                           string
///     requestID                        string
///     sourceAddress                    string
///     details                          4-byte big-endian pair count, then each pair as
///                                      key string, value string, sorted by the key's UTF-8 bytes
///
///     string   = 4-byte big-endian UTF-8 byte count ‖ UTF-8 bytes (no normalization)
///     optional = 0x00 when absent | 0x01 ‖ string when present
///
/// Lengths make every field boundary unambiguous, the presence byte tells an absent tenant
/// from an empty one, and sorting makes the dictionary's order irrelevant. Any change to
/// this layout is a new version tag: stored hashes depend on every byte.
extension AuditEntry {
    package static let canonicalDomainTag: [UInt8] = Array("chom-audit-entry-v1".utf8) + [0]

    package var canonicalEncoding: Data { Data(canonicalBytes) }

    /// The canonical encoding as bytes (what `AuditChain.hash` feeds to SHA-256).
    package var canonicalBytes: [UInt8] {
        var writer = CanonicalWriter()
        writer.append(raw: Self.canonicalDomainTag)
        writer.append(sequence)
        writer.append(utf8: AuditTimestamp.utf8(time))
        writer.append(actor)
        writer.append(optional: organizationID)
        writer.append(optional: tenantID)
        writer.append(action)
        writer.append(target)
        writer.append(requestID)
        writer.append(sourceAddress)
        let pairs = details.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        writer.append(count: pairs.count)
        for (key, value) in pairs {
            writer.append(key)
            writer.append(value)
        }
        return writer.bytes
    }
}

/// Appends length-prefixed fields; shared by the entry and checkpoint encodings.
struct CanonicalWriter {
    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(256) }

    mutating func append(raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }

    mutating func append(_ value: Int64) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(count: Int) {
        // Audit fields are bounded far below 4 GiB by the API's body limit.
        precondition(count >= 0 && count <= Int(UInt32.max), "field too long for a canonical encoding")
        withUnsafeBytes(of: UInt32(count).bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(utf8: some Collection<UInt8>) {
        append(count: utf8.count)
        bytes.append(contentsOf: utf8)
    }

    mutating func append(_ string: String) { append(utf8: string.utf8) }

    mutating func append(optional string: String?) {
        if let string {
            bytes.append(1)
            append(string)
        } else {
            bytes.append(0)
        }
    }
}
