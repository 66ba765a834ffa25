import CHOMCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One DNS question over UDP, built and read in Swift: what a client loop that resolves every
/// few milliseconds uses (spawning `dig` costs ~35 ms a query). A, AAAA and CNAME answers are
/// read; the response code is kept (`NOERROR`, `NXDOMAIN`, …). IPv4 servers only.
package enum DNSQuery {
    /// Asks `server:port` for `name`/`type` (`"A"` or `"AAAA"`), waiting at most `timeout`.
    package static func resolve(
        _ name: String, type: String = "A", server: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(2)
    ) async throws -> DNSAnswer {
        let qtype: UInt16 = type.uppercased() == "AAAA" ? 28 : 1
        let id = UInt16.random(in: 0...UInt16.max)
        let query = try message(id: id, name: name, qtype: qtype)
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw CHOMError(.unavailable, "cannot open a UDP socket") }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, server, &address.sin_addr) == 1 else {
            throw CHOMError(.invalidInput, "'\(server)' is not an IPv4 address")
        }
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, query, query.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == query.count else { throw CHOMError(.unavailable, "cannot send a DNS query to \(server):\(port)") }
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let received = recv(fd, &buffer, buffer.count, 0)
            if received >= 12, UInt16(buffer[0]) << 8 | UInt16(buffer[1]) == id {
                return try parse(Array(buffer[0..<received]), qtype: qtype)
            }
            guard ContinuousClock.now < deadline else {
                throw CHOMError(.unavailable, "no DNS answer from \(server):\(port) within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Header (RD off), one question, class IN.
    static func message(id: UInt16, name: String, qtype: UInt16) throws -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") {
            guard (1...63).contains(label.utf8.count) else { throw CHOMError(.invalidInput, "bad DNS name '\(name)'") }
            bytes.append(UInt8(label.utf8.count))
            bytes.append(contentsOf: label.utf8)
        }
        bytes += [0, UInt8(qtype >> 8), UInt8(qtype & 0xff), 0, 1]
        return bytes
    }

    static func parse(_ bytes: [UInt8], qtype: UInt16) throws -> DNSAnswer {
        let codes = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"]
        let rcode = Int(bytes[3] & 0x0f)
        let status = rcode < codes.count ? codes[rcode] : "RCODE\(rcode)"
        let questions = Int(bytes[4]) << 8 | Int(bytes[5])
        let answers = Int(bytes[6]) << 8 | Int(bytes[7])
        var offset = 12
        for _ in 0..<questions { offset = try skipName(bytes, offset) + 4 }
        var values: [String] = []
        for _ in 0..<answers {
            offset = try skipName(bytes, offset)
            guard offset + 10 <= bytes.count else { throw truncated }
            let type = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
            let length = Int(bytes[offset + 8]) << 8 | Int(bytes[offset + 9])
            let data = offset + 10
            guard data + length <= bytes.count else { throw truncated }
            if type == qtype, type == 1, length == 4 {
                values.append(bytes[data..<data + 4].map(String.init).joined(separator: "."))
            } else if type == qtype, type == 28, length == 16 {
                var raw = Array(bytes[data..<data + 16])
                var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
                if inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count)) != nil {
                    values.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
                }
            }
            offset = data + length
        }
        return DNSAnswer(status: status, values: values.sorted())
    }

    /// The offset after a (possibly compressed) name.
    static func skipName(_ bytes: [UInt8], _ start: Int) throws -> Int {
        var offset = start
        while offset < bytes.count {
            let length = Int(bytes[offset])
            if length == 0 { return offset + 1 }
            if length & 0xc0 == 0xc0 { return offset + 2 }
            offset += length + 1
        }
        throw truncated
    }

    static var truncated: CHOMError { CHOMError(.integrity, "a truncated DNS answer") }
}
