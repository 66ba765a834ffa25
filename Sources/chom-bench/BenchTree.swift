#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// xoshiro256** seeded through SplitMix64: fast, and the same bytes on every machine.
struct BenchRandom {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// Uniform enough in 0..<bound for a benchmark (bound far below 2^32).
    mutating func below(_ bound: Int) -> Int { Int((next() >> 32) % UInt64(bound)) }
}

/// The benchmark's input: a deterministic tree shaped like a site's files. About 45% of the bytes
/// are many small text-like files (1–16 KiB: words from a fixed vocabulary, compressible about
/// 3–4× by zstd), 8–40 per leaf directory three levels down; the rest is 3 large files alternating 4 MiB of text with
/// 4 MiB of random bytes; plus symlinks to siblings and to files one level up.
struct BenchTree {
    /// Bump when the generated content changes, so an old tree is not reused.
    static let generatorVersion = 1
    /// Code-like tokens at the start of the vocabulary; the words after them are letters only.
    static let tokens = [
        "$this->", "function", "return", "if", "else", "{", "}", "();", "=", "=>", "null", "true", "false", "public",
        "private", "const", "array(", "$", "'", "\"", "<div", "class=", "</div>",
    ]
    /// Vocabulary words from this index on are letters only (safe in file names).
    static let firstPlainWord = tokens.count

    let root: URL
    let sizeMB: Int

    struct Stats: Codable {
        var files: Int = 0
        var directories: Int = 0
        var symlinks: Int = 0
        var bytes: UInt64 = 0
    }

    var marker: URL { root.deletingLastPathComponent().appendingPathComponent("\(root.lastPathComponent).ready") }

    /// The stats of a complete tree already generated with these parameters, if there is one.
    func existing() -> Stats? {
        guard let data = try? Data(contentsOf: marker),
            let stored = try? JSONDecoder().decode(Marker.self, from: data),
            stored.generatorVersion == Self.generatorVersion, stored.sizeMB == sizeMB,
            FileManager.default.fileExists(atPath: root.path)
        else { return nil }
        return stored.stats
    }

    private struct Marker: Codable {
        var generatorVersion: Int
        var sizeMB: Int
        var stats: Stats
    }

    func generate() throws -> Stats {
        try? FileManager.default.removeItem(at: marker)
        try? FileManager.default.removeItem(at: root)
        var stats = Stats()
        var random = BenchRandom(seed: 0xC40B_BE4C_0000 &+ UInt64(sizeMB))
        let vocabulary = Self.vocabulary(&random)
        let total = UInt64(sizeMB) << 20
        let smallBudget = total * 45 / 100
        let largeEach = (total - smallBudget) / 3
        try makeDirectory(root, &stats)

        // Small files: up to 40 per leaf directory, leaves spread over 16 × 8 parents
        // (root/word-N/word/dN), filled a round of leaves at a time until the budget is spent.
        let extensions = ["php", "php", "php", "js", "css", "html", "json", "txt", "md", "sh"]
        var written: UInt64 = 0
        var fileIndex = 0
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 23)
        var leaf = 0
        fill: while true {
            for top in 0..<16 {
                for middle in 0..<8 {
                    if written >= smallBudget { break fill }
                    let parent = root.appendingPathComponent(
                        "\(String(decoding: vocabulary[100 + top], as: UTF8.self))-\(top)/\(String(decoding: vocabulary[200 + middle], as: UTF8.self))")
                    let directory = parent.appendingPathComponent("d\(leaf)")
                    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                    var names: [String] = []
                    for _ in 0..<(8 + random.below(33)) {
                        let ext = extensions[random.below(extensions.count)]
                        let name = "\(String(decoding: vocabulary[Self.firstPlainWord + random.below(vocabulary.count - Self.firstPlainWord)], as: UTF8.self))-\(fileIndex).\(ext)"
                        fileIndex += 1
                        let size = 1024 + random.below(15 * 1024 + 1)
                        buffer.removeAll(keepingCapacity: true)
                        Self.appendText(to: &buffer, count: size, vocabulary: vocabulary, random: &random)
                        try writeFile(directory.appendingPathComponent(name), buffer, mode: ext == "sh" ? 0o755 : 0o644)
                        names.append(name)
                        stats.files += 1
                        stats.bytes += UInt64(size)
                        written += UInt64(size)
                    }
                    // Every 4th leaf: a link to a sibling file, and one to a file in the previous leaf.
                    if leaf % 4 == 0 {
                        try makeSymlink(directory.appendingPathComponent("latest"), to: names[names.count - 1], &stats)
                        if leaf > 0 {
                            let previous = "d\(leaf - 1)"
                            let target = firstName(in: parent.appendingPathComponent(previous))
                            try makeSymlink(
                                directory.appendingPathComponent("previous-first"), to: "../\(previous)/\(target)", &stats)
                        }
                    }
                }
            }
            leaf += 1
        }
        stats.directories = try countDirectories()

        // Large files: text and random bytes in alternating 4 MiB runs.
        let media = root.appendingPathComponent("uploads")
        try makeDirectory(media, &stats)
        for index in 0..<3 {
            let path = media.appendingPathComponent(["archive-\(index).sql", "video-\(index).bin", "bundle-\(index).tar"][index])
            let fd = open(path.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw ChildFailure(description: "open \(path.path): errno \(errno)") }
            defer { close(fd) }
            var remaining = largeEach
            var textRun = true
            while remaining > 0 {
                let count = Int(min(remaining, 4 << 20))
                buffer.removeAll(keepingCapacity: true)
                if textRun {
                    Self.appendText(to: &buffer, count: count, vocabulary: vocabulary, random: &random)
                } else {
                    Self.appendRandom(to: &buffer, count: count, random: &random)
                }
                try writeAll(fd, buffer, path.path)
                remaining -= UInt64(count)
                textRun.toggle()
            }
            stats.files += 1
            stats.bytes += largeEach
        }
        try makeSymlink(root.appendingPathComponent("current-upload"), to: "uploads/video-1.bin", &stats)

        let data = try JSONEncoder().encode(Marker(generatorVersion: Self.generatorVersion, sizeMB: sizeMB, stats: stats))
        try data.write(to: marker)
        return stats
    }

    private func firstName(in directory: URL) -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0 != "latest" && $0 != "previous-first" }.sorted().first ?? "missing"
    }

    private func countDirectories() throws -> Int {
        var count = 1
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isDirectoryKey, .isSymbolicLinkKey])
        while let url = enumerator?.nextObject() as? URL {
            let values = try url.resourceValues(forKeys: [.isDirectoryKey, .isSymbolicLinkKey])
            if values.isDirectory == true && values.isSymbolicLink != true { count += 1 }
        }
        return count
    }

    private func makeDirectory(_ url: URL, _ stats: inout Stats) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    private func makeSymlink(_ url: URL, to target: String, _ stats: inout Stats) throws {
        guard symlink(target, url.path) == 0 else {
            throw ChildFailure(description: "symlink \(url.path): errno \(errno)")
        }
        stats.symlinks += 1
    }

    private func writeFile(_ url: URL, _ bytes: [UInt8], mode: mode_t) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ChildFailure(description: "open \(url.path): errno \(errno)") }
        defer { close(fd) }
        try writeAll(fd, bytes, url.path)
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ChildFailure(description: "write \(path): errno \(errno)")
                }
                offset += n
            }
        }
    }

    /// 2 000 pseudo-words of 2–12 letters, with a skewed pick so some recur far more than others.
    private static func vocabulary(_ random: inout BenchRandom) -> [[UInt8]] {
        let syllables = ["ba", "co", "de", "fi", "gu", "ha", "jo", "ka", "li", "mo", "nu", "pe", "qua", "ri", "sa", "te",
                         "vo", "wi", "xe", "zu", "str", "ing", "er", "tion", "al", "get", "set", "id", "user", "site"]
        var words = tokens.map { Array($0.utf8) }
        while words.count < 2_000 {
            var word: [UInt8] = []
            for _ in 0..<(1 + random.below(4)) { word += Array(syllables[random.below(syllables.count)].utf8) }
            words.append(word)
        }
        return words
    }

    static func appendText(to buffer: inout [UInt8], count: Int, vocabulary: [[UInt8]], random: inout BenchRandom) {
        let end = buffer.count + count
        var lineLength = 0
        while buffer.count < end {
            let r = random.next()
            // Skewed: half the picks come from the first 64 words.
            let index = r & 1 == 0 ? Int((r >> 8) % 64) : Int((r >> 8) % UInt64(vocabulary.count))
            buffer += vocabulary[index]
            lineLength += vocabulary[index].count
            if lineLength > 40 + Int((r >> 40) % 60) {
                buffer.append(0x0A)
                let indent = Int((r >> 50) % 4) * 4
                buffer += repeatElement(0x20, count: indent)
                lineLength = indent
            } else {
                buffer.append((r >> 60) == 0 ? 0x2C : 0x20)
            }
        }
        buffer.removeLast(buffer.count - end)
    }

    static func appendRandom(to buffer: inout [UInt8], count: Int, random: inout BenchRandom) {
        let start = buffer.count
        buffer += repeatElement(0, count: count)
        buffer.withUnsafeMutableBytes { raw in
            var offset = start
            while offset + 8 <= raw.count {
                raw.storeBytes(of: random.next(), toByteOffset: offset, as: UInt64.self)
                offset += 8
            }
            while offset < raw.count {
                raw[offset] = UInt8(truncatingIfNeeded: random.next())
                offset += 1
            }
        }
    }
}
