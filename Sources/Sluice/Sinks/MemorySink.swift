/// Hands a pipeline's results to a closure: for tests and for embedding Sluice in an app.
///
/// In exactly-once mode results are handed over after the checkpoint that
/// produced them commits; a crash of the process loses what the closure did
/// not persist itself.
public struct MemorySink<Output: Sendable>: PipelineSink {
    let handler: @Sendable (Output) -> Void

    /// Calls `handler` with every result, in emission order.
    public init(_ handler: @escaping @Sendable (Output) -> Void) {
        self.handler = handler
    }

    /// A sink and the `AsyncStream` that yields its results.
    public static func stream() -> (sink: MemorySink<Output>, results: AsyncStream<Output>) {
        let (stream, continuation) = AsyncStream<Output>.makeStream()
        return (MemorySink { continuation.yield($0) }, stream)
    }
}
