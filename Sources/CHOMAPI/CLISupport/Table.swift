/// Plain-text tables for the `chom` CLI: columns left-aligned to their widest cell, separated by
/// two spaces, no trailing spaces. A table without headers renders rows only (key/value views).
///
/// It lives in CHOMAPI (not the `chom` executable) so it is unit-tested with the client.
package struct Table: Sendable, Equatable {
    package var headers: [String]
    package var rows: [[String]]

    package init(headers: [String], rows: [[String]] = []) {
        self.headers = headers
        self.rows = rows
    }

    /// A two-column view of labelled values, e.g. `agents show`.
    package static func keyValue(_ pairs: [(String, String)]) -> Table {
        Table(headers: [], rows: pairs.map { [$0.0 + ":", $0.1] })
    }

    package mutating func append(_ row: [String]) {
        rows.append(row)
    }

    package func render(gap: Int = 2) -> String {
        let lines = (headers.isEmpty ? [] : [headers]) + rows
        let columns = lines.map(\.count).max() ?? 0
        guard columns > 0 else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for line in lines {
            for (index, cell) in line.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        let separator = String(repeating: " ", count: gap)
        return lines.map { line in
            var text = ""
            for index in 0..<columns {
                let cell = index < line.count ? line[index] : ""
                if index > 0 { text += separator }
                text += cell
                if index < columns - 1 { text += String(repeating: " ", count: widths[index] - cell.count) }
            }
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }.joined(separator: "\n")
    }
}
