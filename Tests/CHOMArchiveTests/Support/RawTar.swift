import Foundation

/// Writes tar bytes by hand, independently of `TarWriter`, so tests can build archives that a
/// careful writer refuses to produce (traversal, devices, hard links, lying sizes).
enum RawTar {
    struct Entry {
        var name: String
        var type: Character = "0"
        var content = Data()
        var link = ""
        var mode: UInt32 = 0o644
        /// Overrides the size written in the header (content is still written as given).
        var declaredSize: Int?
        /// "ustar\0" + "00" (POSIX) or "ustar  \0" (GNU).
        var gnuMagic = false

        static func file(_ name: String, _ text: String = "content", mode: UInt32 = 0o644) -> Entry {
            Entry(name: name, content: Data(text.utf8), mode: mode)
        }
        static func directory(_ name: String, mode: UInt32 = 0o755) -> Entry {
            Entry(name: name, type: "5", mode: mode)
        }
        static func symlink(_ name: String, to target: String) -> Entry {
            Entry(name: name, type: "2", link: target, mode: 0o777)
        }
    }

    static func header(_ entry: Entry) -> Data {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            let bytes = Array(text.utf8.prefix(width))
            block.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        }
        func octal(_ value: Int, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset, width: width - 1)
        }
        put(entry.name, at: 0, width: 100)
        octal(Int(entry.mode), at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(entry.declaredSize ?? entry.content.count, at: 124, width: 12)
        octal(1_700_000_000, at: 136, width: 12)
        block[156] = entry.type.asciiValue!
        put(entry.link, at: 157, width: 100)
        if entry.gnuMagic {
            put("ustar  ", at: 257, width: 8)
        } else {
            put("ustar", at: 257, width: 6)
            put("00", at: 263, width: 2)
        }
        for index in 148..<156 { block[index] = 0x20 }
        let sum = block.reduce(0) { $0 + Int($1) }
        octal(sum, at: 148, width: 7)
        return Data(block)
    }

    static func padded(_ data: Data) -> Data {
        data + Data(count: (512 - data.count % 512) % 512)
    }

    /// The entries with their content, then (unless `endMarker` is false) two zero blocks.
    static func archive(_ entries: [Entry], endMarker: Bool = true) -> Data {
        var output = Data()
        for entry in entries {
            output += header(entry)
            output += padded(entry.content)
        }
        if endMarker { output += Data(count: 1024) }
        return output
    }

    /// A GNU long-name record ('L') followed by `entry` (whose own name field is truncated).
    static func longNamed(_ entry: Entry) -> [Entry] {
        var record = Entry(name: "././@LongLink", type: "L", content: Data(entry.name.utf8) + Data([0]))
        record.gnuMagic = true
        var shortened = entry
        shortened.name = String(entry.name.prefix(100))
        shortened.gnuMagic = true
        return [record, shortened]
    }

    /// A PAX record ('x') with the given keys, followed by `entry`.
    static func paxed(_ entry: Entry, _ records: [(String, String)]) -> [Entry] {
        var body = Data()
        for (key, value) in records {
            let tail = " \(key)=\(value)\n"
            var length = tail.utf8.count + 1
            while String(length).utf8.count + tail.utf8.count != length { length += 1 }
            body += Data("\(length)\(tail)".utf8)
        }
        return [Entry(name: "PaxHeaders/x", type: "x", content: body), entry]
    }
}
