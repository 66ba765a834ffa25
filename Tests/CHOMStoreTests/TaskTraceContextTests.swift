import CHOMCore
import CHOMStore
import Instrumentation
import Testing

/// A task takes the trace of the work that queues it: the request's, bound in `ServiceContext`;
/// none for work run outside any trace (timers, or a request's pass over other organizations).
@Suite("Queued tasks and the trace context")
struct TaskTraceContextTests {
    static func newTask() -> NewTask {
        NewTask(id: TaskID(), agentID: AgentID(), siteID: nil, releaseID: nil, kind: .ping, payload: [], maxAttempts: 1)
    }

    @Test("inside a request's context a task keeps its trace; outside, or with the context cleared, none")
    func defaults() {
        #expect(Self.newTask().traceParent == nil)
        var context = ServiceContext.topLevel
        let trace = TraceParent.random()
        context.traceParent = trace
        ServiceContext.withValue(context) {
            #expect(Self.newTask().traceParent == trace)
            ServiceContext.withValue(nil) { #expect(Self.newTask().traceParent == nil) }
        }
    }

    @Test("the propagator continues a valid caller's trace with a new span, and starts one otherwise")
    func propagator() {
        struct Headers: Extractor, Injector {
            func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
            func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
        }
        let propagator = W3CTraceContextPropagator()
        let caller = TraceParent.random()
        var context = ServiceContext.topLevel
        propagator.extract(["traceparent": caller.description], into: &context, using: Headers())
        #expect(context.traceParent?.traceID == caller.traceID && context.traceParent?.spanID != caller.spanID)
        var answer: [String: String] = [:]
        propagator.inject(context, into: &answer, using: Headers())
        #expect(answer["traceparent"] == context.traceParent?.description)
        for header in [nil, "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"] as [String?] {
            var fresh = ServiceContext.topLevel
            propagator.extract(header.map { ["traceparent": $0] } ?? [:], into: &fresh, using: Headers())
            #expect(fresh.traceParent != nil && fresh.traceParent?.traceID != caller.traceID, "\(header ?? "none")")
        }
    }
}
