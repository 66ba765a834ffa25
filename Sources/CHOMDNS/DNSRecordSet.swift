/// A DNS record type, as PowerDNS and RFC 1035 spell it ("A", "AAAA", "CNAME", …). A struct
/// rather than an enum so that reading a zone keeps the types CHOM does not write (SOA, NS, MX).
package struct DNSRecordType: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    package let rawValue: String

    package init(rawValue: String) { self.rawValue = rawValue.uppercased() }

    package static let a = DNSRecordType(rawValue: "A")
    package static let aaaa = DNSRecordType(rawValue: "AAAA")
    package static let cname = DNSRecordType(rawValue: "CNAME")
    package static let ns = DNSRecordType(rawValue: "NS")
    package static let soa = DNSRecordType(rawValue: "SOA")

    package var description: String { rawValue }

    package static func < (lhs: DNSRecordType, rhs: DNSRecordType) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Every record of one name and type (an RRset), the unit DNS providers replace and delete.
///
/// The name is kept as a fully qualified, lowercase name with its trailing dot, and the values
/// sorted without repeats, so that two sets read from different places compare equal when they
/// mean the same thing.
package struct DNSRecordSet: Hashable, Sendable, CustomStringConvertible {
    package var name: String
    package var type: DNSRecordType
    package var ttl: Int
    package var values: [String]

    package init(name: String, type: DNSRecordType, ttl: Int, values: [String]) {
        self.name = DNSName.fullyQualified(name)
        self.type = type
        self.ttl = ttl
        self.values = Array(Set(values)).sorted()
    }

    /// Name and type: what identifies the set inside a zone.
    package var key: Key { Key(name: name, type: type) }

    package struct Key: Hashable, Sendable, Comparable, CustomStringConvertible {
        package var name: String
        package var type: DNSRecordType

        package init(name: String, type: DNSRecordType) {
            self.name = DNSName.fullyQualified(name)
            self.type = type
        }

        package var description: String { "\(name) \(type)" }

        package static func < (lhs: Key, rhs: Key) -> Bool { (lhs.name, lhs.type) < (rhs.name, rhs.type) }
    }

    package var description: String { "\(name) \(ttl) \(type) \(values.joined(separator: " "))" }
}

/// One change to a zone: replace a whole set (creating it if absent), or delete every record of
/// a name and type (deleting an absent set is not an error).
package enum DNSChange: Hashable, Sendable, CustomStringConvertible {
    case upsert(DNSRecordSet)
    case delete(name: String, type: DNSRecordType)

    package var key: DNSRecordSet.Key {
        switch self {
        case .upsert(let set): set.key
        case .delete(let name, let type): DNSRecordSet.Key(name: name, type: type)
        }
    }

    package var description: String {
        switch self {
        case .upsert(let set): "upsert \(set)"
        case .delete(let name, let type): "delete \(DNSName.fullyQualified(name)) \(type)"
        }
    }
}

/// The changes that go to one zone in one request (PowerDNS applies a PATCH in one transaction).
package struct DNSZoneChanges: Hashable, Sendable {
    package var zone: String
    package var changes: [DNSChange]

    package init(zone: String, changes: [DNSChange]) {
        self.zone = DNSName.fullyQualified(zone)
        self.changes = changes
    }
}
