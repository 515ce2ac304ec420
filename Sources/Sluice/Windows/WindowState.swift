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

        /// Encodes the window's bounds and accumulator (written directly by Sluice's state encoder).
        public func encode(to encoder: any Encoder) throws {
            if let binary = encoder as? BinaryStateEncoding {
                let writer = try binary.openKeyed()
                try writer.writeMember(start, key: CodingKeys.start)
                try writer.writeMember(end, key: CodingKeys.end)
                try writer.writeMember(accumulator, key: CodingKeys.accumulator)
                return
            }
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(start, forKey: .start)
            try container.encode(end, forKey: .end)
            try container.encode(accumulator, forKey: .accumulator)
        }
    }

    /// Open windows ordered by start.
    public var windows: [Open] = []

    /// Creates an empty state.
    @inlinable
    public init() {}

    /// Encodes the open windows (written directly by Sluice's state encoder).
    public func encode(to encoder: any Encoder) throws {
        if let binary = encoder as? BinaryStateEncoding {
            try binary.openKeyed().writeArrayMember(windows, key: CodingKeys.windows)
            return
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(windows, forKey: .windows)
    }
}
