import Foundation

/// What a directory tree holds, for comparing two trees: file contents and executable bit,
/// directories, symlink targets. Symlinks are recorded, never followed.
enum Node: Equatable, CustomStringConvertible {
    case file(Data, executable: Bool)
    case directory
    case symlink(String)

    var description: String {
        switch self {
        case .file(let data, let executable): "file(\(data.count) bytes\(executable ? ", executable" : ""))"
        case .directory: "directory"
        case .symlink(let target): "symlink(\(target))"
        }
    }
}

func snapshot(_ root: URL) throws -> [String: Node] {
    var result: [String: Node] = [:]
    func visit(_ directory: String, _ relative: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            let path = directory + "/" + name
            let key = relative.isEmpty ? name : relative + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                result[key] = .directory
                try visit(path, key)
            case S_IFLNK:
                result[key] = .symlink(try FileManager.default.destinationOfSymbolicLink(atPath: path))
            default:
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                result[key] = .file(data, executable: st.st_mode & 0o100 != 0)
            }
        }
    }
    try visit(root.path, "")
    return result
}

/// Mode bits of a path (lstat).
func permissions(_ url: URL) -> UInt32 {
    var st = stat()
    guard lstat(url.path, &st) == 0 else { return 0 }
    return UInt32(st.st_mode) & 0o7777
}

/// Deterministic pseudo-random bytes (xorshift), for incompressible test data.
func pseudoRandomData(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> Data {
    var state = seed
    var bytes = [UInt8](repeating: 0, count: count)
    for index in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        bytes[index] = UInt8(truncatingIfNeeded: state)
    }
    return Data(bytes)
}

/// Text-like, highly compressible bytes.
func compressibleData(count: Int) -> Data {
    let line = Data("CHOM deploys static sites; this line repeats to compress well.\n".utf8)
    var data = Data(capacity: count)
    while data.count < count { data.append(line) }
    return data.prefix(count)
}
