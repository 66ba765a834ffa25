import Foundation

/// One clear line on stderr for a fatal error (its description, which never holds a secret).
enum FatalLine {
    static func print(_ error: any Error) {
        let line = "chom-agent: error: \(String(describing: error))\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
