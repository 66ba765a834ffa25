import CHOMAPI
import CHOMCore
import CHOMStore
import Foundation

/// An invoice as CSV (one row per line, then its credit notes and the total) and as a printable
/// HTML page. Pure: every text from outside (the organization's name, the issuer) is escaped.
enum InvoiceRendering {
    static func amount(_ minor: Int64, _ currency: String) -> String { MoneyText.amount(minor, currency) }

    static func number(_ invoice: InvoiceRecord) -> String { "INV-\(String(format: "%06lld", invoice.number))" }

    static func csv(_ invoice: InvoiceRecord, creditNotes: [CreditNoteRecord]) -> String {
        var rows = [["kind", "description", "meter", "quantity", "unit_price", "amount", "currency"]]
        for line in invoice.lines {
            rows.append([
                line.kind.rawValue, line.description, line.meter?.rawValue ?? "", "\(line.quantity)",
                line.unitPrice.map { amount($0.minor, invoice.currency) } ?? "", amount(line.amount.minor, invoice.currency),
                invoice.currency,
            ])
        }
        for note in creditNotes {
            rows.append([
                "credit_note", "CN-\(String(format: "%06lld", note.number)): \(note.reason)", "", "1", "",
                amount(-note.amount.minor, invoice.currency), invoice.currency,
            ])
        }
        rows.append(["total", number(invoice), "", "", "", amount(invoice.totalMinor, invoice.currency), invoice.currency])
        return rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    /// RFC 4180 quoting; a field a spreadsheet would run as a formula gets a leading apostrophe.
    static func field(_ text: String) -> String {
        var text = text
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), Double(text) == nil {
            text = "'" + text
        }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func html(_ invoice: InvoiceRecord, creditNotes: [CreditNoteRecord], organizationName: String) -> String {
        let period = "\(day(invoice.period.start)) to \(day(invoice.period.end))"
        var rows = ""
        for line in invoice.lines {
            rows += """
                <tr><td>\(escape(line.description))</td><td class="n">\(line.quantity)</td>\
                <td class="n">\(line.unitPrice.map { amount($0.minor, invoice.currency) } ?? "")</td>\
                <td class="n">\(amount(line.amount.minor, invoice.currency))</td></tr>

                """
        }
        var notes = ""
        for note in creditNotes {
            notes += """
                <tr><td>Credit note CN-\(String(format: "%06lld", note.number)): \(escape(note.reason))</td><td></td><td></td>\
                <td class="n">\(amount(-note.amount.minor, invoice.currency))</td></tr>

                """
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <title>Invoice \(number(invoice))</title>
            <style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse;width:100%}\
            td,th{border-bottom:1px solid #ccc;padding:4px;text-align:left}.n{text-align:right}\
            @media print{body{margin:0}}</style></head>
            <body>
            <h1>Invoice \(number(invoice))</h1>
            <p>Issued by \(escape(invoice.issuer)) to \(escape(organizationName)) on \(day(invoice.finalizedAt)).<br>
            Period: \(period). Plan: \(escape(invoice.planCode)). Status: \(invoice.status.rawValue).</p>
            <table><thead><tr><th>Line</th><th class="n">Quantity</th><th class="n">Unit price</th>\
            <th class="n">Amount (\(escape(invoice.currency)))</th></tr></thead>
            <tbody>
            \(rows)\(notes)<tr><th>Total</th><td></td><td></td><th class="n">\(amount(invoice.totalMinor, invoice.currency))</th></tr>
            </tbody></table>
            </body></html>

            """
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    private static func day(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!).year().month().day())
    }
}
