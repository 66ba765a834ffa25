/// The W3C `traceparent` of the API request that queued a task (the observability issue's
/// traces): the dispatcher puts it in the envelope header, and the agent's log lines for the task
/// carry its trace id. Null for a task queued by the coordinator itself (a schedule, a migration
/// step started by a timer). Stored as the header the coordinator wrote, version 00: 55 characters.
enum Migration0025TaskTrace {
    static let migration = Migration(version: 25, name: "task_trace", sql: """
        ALTER TABLE tasks ADD COLUMN traceparent text CHECK (length(traceparent) = 55);
        """)
}
