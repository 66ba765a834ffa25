import Foundation

/// Splits a migration script into statements, because PostgreSQL's extended query
/// protocol runs one statement at a time. A statement ends at a line ending in `;`
/// outside a `$$ … $$` body (as in function definitions).
package enum SQLStatementSplitter {
    package static func split(_ script: String) -> [String] {
        var statements: [String] = []
        var current: [Substring] = []
        var insideDollarQuote = false
        for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current.isEmpty && (trimmed.isEmpty || trimmed.hasPrefix("--")) { continue }
            current.append(line)
            if line.components(separatedBy: "$$").count % 2 == 0 { insideDollarQuote.toggle() }
            if !insideDollarQuote && trimmed.hasSuffix(";") {
                statements.append(current.joined(separator: "\n"))
                current = []
            }
        }
        let rest = current.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }
}
