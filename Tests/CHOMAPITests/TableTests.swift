import CHOMAPI
import Testing

@Suite("Table rendering")
struct TableTests {
    @Test("columns are left-aligned to their widest cell, two spaces apart, with no trailing spaces")
    func alignment() {
        var table = Table(headers: ["ID", "NAME", "STATE"])
        table.append(["1a2b3c4d", "web-1", "online"])
        table.append(["5e6f", "a-much-longer-name", "offline"])
        #expect(
            table.render() == """
                ID        NAME                STATE
                1a2b3c4d  web-1               online
                5e6f      a-much-longer-name  offline
                """)
    }

    @Test("an empty last cell leaves no trailing spaces and a short row is padded")
    func raggedRows() {
        let table = Table(headers: ["AGENT", "STATE", "PATH"], rows: [["web-1", "online", ""], ["x"]])
        let lines = table.render().split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines == ["AGENT  STATE   PATH", "web-1  online", "x"])
        #expect(lines.allSatisfy { !$0.hasSuffix(" ") })
    }

    @Test("a table with no rows is its header line")
    func headerOnly() {
        #expect(Table(headers: ["DOMAIN", "STATE"]).render() == "DOMAIN  STATE")
    }

    @Test("a key/value table has no header and aligns the values")
    func keyValue() {
        let table = Table.keyValue([("ID", "abc"), ("Last heartbeat", "never")])
        #expect(table.render() == "ID:              abc\nLast heartbeat:  never")
    }

    @Test("widths count characters, not UTF-8 bytes")
    func unicodeWidths() {
        let table = Table(headers: ["NAME", "X"], rows: [["café", "1"], ["ab", "2"]])
        #expect(table.render() == "NAME  X\ncafé  1\nab    2")
    }
}
