import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Asking the user: prompts go to stderr (stdout stays clean for `--output json`), answers come
/// from stdin. Secrets are read with the terminal's echo turned off when stdin is a terminal.
enum Prompt {
    static var isInteractive: Bool { isatty(STDIN_FILENO) != 0 }

    /// One line of text after `label`, trimmed; empty answers are asked again on a terminal.
    static func line(_ label: String) throws -> String {
        while true {
            FileHandle.standardError.write(Data(label.utf8))
            guard let answer = readLine(strippingNewline: true) else {
                throw CLIError("no answer to \"\(label.trimmingCharacters(in: .whitespaces))\" (end of input)")
            }
            let trimmed = answer.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty || !isInteractive { return trimmed }
        }
    }

    /// A secret typed after `label`, not echoed on a terminal. The line is taken as typed (no trimming).
    static func secret(_ label: String) throws -> String {
        FileHandle.standardError.write(Data(label.utf8))
        guard isInteractive else {
            guard let answer = readLine(strippingNewline: true) else {
                throw CLIError("no answer to \"\(label.trimmingCharacters(in: .whitespaces))\" (end of input)")
            }
            return answer
        }
        let answer = withoutEcho { readLine(strippingNewline: true) }
        FileHandle.standardError.write(Data("\n".utf8))
        guard let answer else { throw CLIError("no answer to \"\(label.trimmingCharacters(in: .whitespaces))\"") }
        return answer
    }

    /// A secret, asked twice on a terminal; they must match.
    static func newSecret(_ label: String, again: String) throws -> String {
        let first = try secret(label)
        guard isInteractive else { return first }
        guard try secret(again) == first else { throw CLIError("the two entries do not match") }
        return first
    }

    /// One line from stdin, without a prompt (`--password-stdin`).
    static func stdinLine(_ what: String) throws -> String {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw CLIError("no \(what) on stdin")
        }
        return line
    }

    /// Runs `body` with the terminal's echo off; an interrupt (Ctrl-C) restores the terminal first.
    private static func withoutEcho<T>(_ body: () -> T) -> T {
        var original = termios()
        guard tcgetattr(STDIN_FILENO, &original) == 0 else { return body() }
        savedTerminal = original
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        signal(SIGINT, restoreAndExit)
        signal(SIGTERM, restoreAndExit)
        _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }
        return body()
    }
}

/// The terminal settings to put back when interrupted while echo is off. Written before the
/// handler is installed and only read by it.
nonisolated(unsafe) private var savedTerminal = termios()

private func restoreAndExit(_ signal: Int32) {
    _ = tcsetattr(STDIN_FILENO, TCSANOW, &savedTerminal)
    _ = write(STDERR_FILENO, "\n", 1)
    _exit(128 + signal)
}
