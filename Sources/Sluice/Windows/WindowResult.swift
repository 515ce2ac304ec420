/// The result of one key's window: emitted once, when the window closes.
public struct WindowResult<Key: Sendable, Value: Sendable>: Sendable {
    /// The key.
    public var key: Key
    /// The window.
    public var window: TimeWindow
    /// The aggregated value.
    public var value: Value

    /// Creates a result.
    public init(key: Key, window: TimeWindow, value: Value) {
        self.key = key
        self.window = window
        self.value = value
    }
}

extension WindowResult: Equatable where Key: Equatable, Value: Equatable {}
extension WindowResult: Hashable where Key: Hashable, Value: Hashable {}
extension WindowResult: Codable where Key: Codable, Value: Codable {}
