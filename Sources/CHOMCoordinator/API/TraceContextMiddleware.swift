import CHOMCore
import CHOMStore
import HTTPTypes
import Hummingbird
import Instrumentation
import Logging

/// W3C trace context on every admin API request (`W3CTraceContextPropagator`): the caller's
/// `traceparent` is continued, or a trace is started; the request's span is bound in the
/// task-local `ServiceContext` while the handler runs (so the task queue stores it with every
/// task the request queues), its trace id is in the request's log lines, and the answer, error or
/// not, carries it in `traceparent`. Outermost, so every answer has it.
struct TraceContextMiddleware<Context: RequestContext>: RouterMiddleware {
    let propagator = W3CTraceContextPropagator()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var serviceContext = ServiceContext.current ?? .topLevel
        propagator.extract(request.headers, into: &serviceContext, using: HTTPFieldsPropagation())
        var context = context
        if let trace = serviceContext.traceParent { context.logger[metadataKey: LogKey.traceID] = "\(trace.traceID)" }
        var response = try await ServiceContext.withValue(serviceContext) { try await next(request, context) }
        propagator.inject(serviceContext, into: &response.headers, using: HTTPFieldsPropagation())
        return response
    }
}

/// Reads and writes trace headers in `HTTPFields`. A header sent more than once is not a trace
/// context (the specification has the receiver drop it), so it starts a new trace.
struct HTTPFieldsPropagation: Extractor, Injector {
    func extract(key: String, from fields: HTTPFields) -> String? {
        guard let name = HTTPField.Name(key) else { return nil }
        let values = fields[values: name]
        return values.count == 1 ? values[0] : nil
    }

    func inject(_ value: String, forKey key: String, into fields: inout HTTPFields) {
        guard let name = HTTPField.Name(key) else { return }
        fields[name] = value
    }
}
