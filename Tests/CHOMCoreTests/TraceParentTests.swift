import CHOMCore
import Testing

@Suite("W3C traceparent")
struct TraceParentTests {
    static let example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test("the specification's example parses into its fields and prints back unchanged")
    func example() throws {
        let trace = try #require(TraceParent(header: Self.example))
        #expect(trace.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(trace.spanID == "00f067aa0ba902b7")
        #expect(trace.flags == 1)
        #expect(trace.description == Self.example)
    }

    @Test(
        "what is not a valid traceparent is refused",
        arguments: [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",  // short
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // version 00 with more
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero parent id
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // separator
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",  // not hex
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz",  // flags
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  // later version, no dash
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-" + String(repeating: "a", count: 300),  // too long
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-é",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",  // uppercase flags
            "00-4bf92f3577b34da6a3ce929d0e0e47é-00f067aa0ba902b7-01",  // a two-byte character in the id
        ])
    func refused(header: String) {
        #expect(TraceParent(header: header) == nil, "\(header)")
    }

    @Test("a later version is read by its version-00 prefix, and printed as version 00")
    func laterVersion() throws {
        let trace = try #require(TraceParent(header: "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds"))
        #expect(trace.description == Self.example)
    }

    @Test("a child keeps the trace id and the sampled flag, with a new span id")
    func child() throws {
        let parent = try #require(TraceParent(header: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"))
        let child = parent.child()
        #expect(child.traceID == parent.traceID)
        #expect(child.spanID != parent.spanID && child.spanID.count == 16)
        #expect(child.flags == 1)
        #expect(TraceParent(header: child.description) == child)
    }

    @Test("random traces are valid, sampled and distinct")
    func random() {
        let traces = (0..<100).map { _ in TraceParent.random() }
        #expect(Set(traces.map(\.traceID)).count == 100)
        for trace in traces {
            #expect(TraceParent(header: trace.description) == trace)
            #expect(trace.flags == 1)
        }
    }
}
