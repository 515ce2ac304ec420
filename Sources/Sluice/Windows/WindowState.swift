/// The open windows of one key: the state a ``WindowAggregator`` checkpoints.
public struct WindowState<Accumulator: Sendable & Codable>: Sendable, Codable {
    /// One open window and its accumulator.
    public struct Open: Sendable, Codable {
        /// Window start, milliseconds since the epoch.
        public var start: Int64
        /// Window end (exclusive), milliseconds since the epoch.
        public var end: Int64
        /// The accumulator so far.
        public var accumulator: Accumulator

        @inlinable
        init(start: Int64, end: Int64, accumulator: Accumulator) {
            self.start = start
            self.end = end
            self.accumulator = accumulator
        }
    }

    /// Open windows ordered by start.
    public var windows: [Open] = []

    /// Creates an empty state.
    @inlinable
    public init() {}
}
