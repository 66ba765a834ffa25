package import CHOMCore
package import Instrumentation

/// The W3C trace context of the work in hand, carried in swift-distributed-tracing's task-local
/// `ServiceContext`: the admin API binds it per request (`W3CTraceContextPropagator.extract`), and
/// the task queue stores it with every task queued under it (`TaskQueue.insert`), so the
/// envelope sent later, by whichever replica, carries the request's trace to the agent.
package enum TraceParentKey: ServiceContextKey {
    package typealias Value = TraceParent
    package static var nameOverride: String? { "traceparent" }
}

extension ServiceContext {
    package var traceParent: TraceParent? {
        get { self[TraceParentKey.self] }
        set { self[TraceParentKey.self] = newValue }
    }
}

/// W3C Trace Context propagation (`traceparent`) as a swift-distributed-tracing `Instrument`.
///
/// `extract` reads the caller's `traceparent` and binds a child span of it, or starts a new
/// trace when there is none or it is not valid: every request has a trace. `inject` writes the
/// context's `traceparent`. It records no spans: nothing on this machine receives OTLP, and the
/// ids are what the logs and the envelope need.
package struct W3CTraceContextPropagator: Instrument {
    package static let header = "traceparent"

    package init() {}

    package func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        let incoming = extractor.extract(key: Self.header, from: carrier).flatMap { TraceParent(header: $0) }
        context.traceParent = incoming?.child() ?? TraceParent.random()
    }

    package func inject<Carrier, Inject: Injector>(
        _ context: ServiceContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let trace = context.traceParent else { return }
        injector.inject(trace.description, forKey: Self.header, into: &carrier)
    }
}
