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
                try writeFields(to: try binary.openKeyed())
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
            // The bytes of `writeArrayMember`, without a nested encoder and slot per window;
            // only the accumulator goes through `Codable`.
            let writer = try binary.openKeyed()
            let array = writer.beginRegion(key: CodingKeys.windows)
            for window in windows {
                let element = writer.beginElementRegion()
                try window.writeFields(to: writer)
                writer.endRegion(lengthAt: element)
            }
            writer.endRegion(lengthAt: array)
            return
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(windows, forKey: .windows)
    }
}

extension WindowState.Open {
    /// Writes the window's members into the keyed container being written, as its synthesized
    /// encoding would: the bounds as integers, the accumulator through `Codable`.
    func writeFields(to writer: BinaryStateWriter) throws {
        writer.writeHeader(key: CodingKeys.start, wireType: .varint)
        writer.body.appendZigzag(start)
        writer.writeHeader(key: CodingKeys.end, wireType: .varint)
        writer.body.appendZigzag(end)
        try writer.writeMember(accumulator, key: CodingKeys.accumulator)
    }
}
