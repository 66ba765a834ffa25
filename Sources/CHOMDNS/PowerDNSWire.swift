/// The JSON documents of PowerDNS Authoritative's HTTP API v1, as far as CHOM reads and writes
/// them (https://doc.powerdns.com/authoritative/http-api/zone.html).
enum PowerDNSWire {
    /// `PATCH /zones/{zone}`: `{"rrsets": [...]}`.
    struct Patch: Encodable {
        var rrsets: [RRSetChange]
    }

    /// One RRset in a PATCH: REPLACE carries ttl and records; DELETE only name and type.
    struct RRSetChange: Encodable {
        var name: String
        var type: String
        var ttl: Int?
        var changetype: String
        var records: [Record]?

        init(_ change: DNSChange) {
            switch change {
            case .upsert(let set):
                name = set.name
                type = set.type.rawValue
                ttl = set.ttl
                changetype = "REPLACE"
                records = set.values.map { Record(content: $0, disabled: false) }
            case .delete(let name, let type):
                self.name = DNSName.fullyQualified(name)
                self.type = type.rawValue
                changetype = "DELETE"
            }
        }
    }

    struct Record: Codable {
        var content: String
        var disabled: Bool?
    }

    /// `GET /zones/{zone}`: only the RRsets are read.
    struct Zone: Decodable {
        var name: String
        var rrsets: [RRSet]?
    }

    struct RRSet: Decodable {
        var name: String
        var type: String
        var ttl: Int?
        var records: [Record]
    }

    /// An entry of `GET /zones`.
    struct ZoneSummary: Decodable {
        var name: String
    }

    /// `POST /zones`.
    struct NewZone: Encodable {
        var name: String
        var kind: String
        var nameservers: [String]
    }

    /// An entry of `GET /search-data`; only records (`object_type == "record"`) are asked for.
    struct SearchResult: Decodable {
        var name: String?
        var type: String?
        var ttl: Int?
        var content: String?
        var disabled: Bool?
        var zone: String?
        var object_type: String
    }

    /// PowerDNS's error body: `{"error": "..."}` (some answers are plain text instead).
    struct ErrorBody: Decodable {
        var error: String
    }
}

extension PowerDNSWire.RRSet {
    /// The set with its enabled records; nil when every record is disabled (nothing is served).
    var recordSet: DNSRecordSet? {
        let values = records.filter { $0.disabled != true }.map(\.content)
        guard !values.isEmpty else { return nil }
        return DNSRecordSet(name: name, type: DNSRecordType(rawValue: type), ttl: ttl ?? 0, values: values)
    }
}
