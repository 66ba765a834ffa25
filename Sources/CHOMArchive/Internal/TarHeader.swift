/// The 512-byte ustar header block: field layout, octal/base-256 numbers and the checksum.
enum TarHeader {
    static let blockSize = 512
    /// Largest value an 11-digit octal field (size, mtime) holds.
    static let maxOctal11 = 0o77777777777

    /// A decoded header block, before long-name and PAX records are applied.
    struct Fields {
        var typeFlag: UInt8
        var name: [UInt8]
        var linkName: [UInt8]
        var mode: UInt32
        var size: Int
        var mtime: Int
    }

    private enum Field {
        static let name = 0..<100
        static let mode = 100..<108
        static let uid = 108..<116
        static let gid = 116..<124
        static let size = 124..<136
        static let mtime = 136..<148
        static let checksum = 148..<156
        static let typeFlag = 156
        static let linkName = 157..<257
        static let magic = 257..<263
        static let version = 263..<265
        static let devMajor = 329..<337
        static let devMinor = 337..<345
        static let prefix = 345..<500
    }

    private static let posixMagic: [UInt8] = Array("ustar\0".utf8)

    static func isZeroBlock(_ block: [UInt8]) -> Bool {
        block.allSatisfy { $0 == 0 }
    }

    /// Decodes a non-zero header block, validating its checksum.
    static func decode(_ block: [UInt8]) throws -> Fields {
        precondition(block.count == blockSize)
        guard let stored = parseNumber(block[Field.checksum]) else {
            throw ArchiveError.corrupt(format: "tar", reason: "header checksum field is not a number")
        }
        var unsigned = 0
        var signed = 0
        for (index, byte) in block.enumerated() {
            let value = Field.checksum.contains(index) ? 0x20 : byte
            unsigned += Int(value)
            signed += Int(Int8(bitPattern: value))
        }
        guard stored == unsigned || stored == signed else {
            throw ArchiveError.corrupt(format: "tar", reason: "header checksum mismatch")
        }
        guard let mode = parseNumber(block[Field.mode]), let size = parseNumber(block[Field.size]),
            let mtime = parseNumber(block[Field.mtime])
        else {
            throw ArchiveError.corrupt(format: "tar", reason: "header has a malformed numeric field")
        }
        var name = cString(block[Field.name])
        // Only POSIX ustar ("ustar\0") has a prefix field; GNU's "ustar  \0" uses that space otherwise.
        if Array(block[Field.magic]) == posixMagic {
            let prefix = cString(block[Field.prefix])
            if !prefix.isEmpty { name = prefix + [UInt8(ascii: "/")] + name }
        }
        return Fields(
            typeFlag: block[Field.typeFlag], name: name, linkName: cString(block[Field.linkName]),
            mode: UInt32(truncatingIfNeeded: mode & 0o7777), size: size, mtime: mtime)
    }

    /// Encodes a POSIX ustar header. `name` and `linkName` must be at most 100 bytes, `size` and
    /// `mtime` within 0...maxOctal11 (longer or larger values go in a PAX record first).
    static func encode(typeFlag: UInt8, name: [UInt8], linkName: [UInt8], mode: UInt32, size: Int, mtime: Int)
        -> [UInt8]
    {
        precondition(name.count <= 100 && linkName.count <= 100)
        var block = [UInt8](repeating: 0, count: blockSize)
        block.replaceSubrange(0..<name.count, with: name)
        putOctal(&block, Field.mode, Int(mode & 0o7777))
        putOctal(&block, Field.uid, 0)
        putOctal(&block, Field.gid, 0)
        putOctal(&block, Field.size, size)
        putOctal(&block, Field.mtime, mtime)
        block[Field.typeFlag] = typeFlag
        block.replaceSubrange(Field.linkName.lowerBound..<(Field.linkName.lowerBound + linkName.count), with: linkName)
        block.replaceSubrange(Field.magic, with: posixMagic)
        block.replaceSubrange(Field.version, with: Array("00".utf8))
        putOctal(&block, Field.devMajor, 0)
        putOctal(&block, Field.devMinor, 0)
        block.replaceSubrange(Field.checksum, with: [UInt8](repeating: 0x20, count: 8))
        let sum = block.reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        var field = [UInt8](repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits
        field += [0, 0x20]
        block.replaceSubrange(Field.checksum, with: field)
        return block
    }

    /// Zero-padded octal digits followed by a NUL, filling the field.
    private static func putOctal(_ block: inout [UInt8], _ field: Range<Int>, _ value: Int) {
        let digits = Array(String(value, radix: 8).utf8)
        let width = field.count - 1
        precondition(digits.count <= width)
        let text = [UInt8](repeating: UInt8(ascii: "0"), count: width - digits.count) + digits + [0]
        block.replaceSubrange(field, with: text)
    }

    /// Octal (leading spaces/NULs allowed, ended by a NUL or space) or GNU base-256 (high bit set).
    /// Nil for malformed text, a negative base-256 value, or an overflow.
    static func parseNumber(_ field: ArraySlice<UInt8>) -> Int? {
        guard let first = field.first else { return 0 }
        if first & 0x80 != 0 {
            guard first == 0x80 else { return nil }  // 0xFF: negative
            var value = 0
            for byte in field.dropFirst() {
                guard value <= (Int.max >> 8) else { return nil }
                value = value << 8 | Int(byte)
            }
            return value
        }
        var value = 0
        var index = field.startIndex
        while index < field.endIndex, field[index] == 0x20 || field[index] == 0 { index += 1 }
        while index < field.endIndex {
            let byte = field[index]
            if byte == 0 || byte == 0x20 { break }
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte), value <= (Int.max >> 3) else { return nil }
            value = value << 3 | Int(byte - UInt8(ascii: "0"))
            index += 1
        }
        // Anything after the terminator must be terminators too.
        while index < field.endIndex {
            guard field[index] == 0 || field[index] == 0x20 else { return nil }
            index += 1
        }
        return value
    }

    private static func cString(_ field: ArraySlice<UInt8>) -> [UInt8] {
        Array(field.prefix { $0 != 0 })
    }
}
