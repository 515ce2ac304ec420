import Synchronization

/// Key names shared by many state documents, each stored once instead of once per document.
///
/// A ``BinaryStateEncoder`` made with a table writes format version 2: a document whose
/// entries refer to key names by their index in the table, with no names of its own. For the
/// IoT job's state (timers and windows of one sensor) that is about a quarter of the bytes of a
/// self-contained (version 1) document. The table only grows, and an index never changes, so
/// documents stay readable for as long as the table is kept with them: a checkpoint store that
/// offers one (``CheckpointStore/stateKeyTable``) saves the names in the same commit as the
/// documents that use them, and loads them again when opened.
///
/// Safe to use from any thread; encoders keep their own cache of the names they looked up.
public final class BinaryStateKeyTable: Sendable {
    private struct Names {
        var list: [String]
        var indexes: [String: Int]
    }

    private let names: Mutex<Names>

    /// Creates an empty table.
    public init() {
        names = Mutex(Names(list: [], indexes: [:]))
    }

    /// Creates a table holding `names`, in order (as saved from ``allNames``).
    ///
    /// - Throws: ``SluiceError`` with code `.decoding` if a name appears twice.
    public init(names: [String]) throws {
        var indexes: [String: Int] = [:]
        indexes.reserveCapacity(names.count)
        for (index, name) in names.enumerated() {
            if let earlier = indexes.updateValue(index, forKey: name) {
                throw SluiceError(
                    .decoding, "the state key table holds '\(name)' twice (at \(earlier) and \(index)); it is damaged")
            }
        }
        self.names = Mutex(Names(list: names, indexes: indexes))
    }

    /// Every name, in index order.
    public var allNames: [String] { names.withLock { $0.list } }

    /// How many names the table holds.
    public var count: Int { names.withLock { $0.list.count } }

    /// The names from index `start` on: the ones a store has not saved yet.
    public func names(from start: Int) -> ArraySlice<String> {
        names.withLock { $0.list[min(start, $0.list.count)...] }
    }

    /// The most names a table takes; further names stay in their documents.
    public static let capacity = 4_096

    /// The index of `name`, added at the end if it is new and the table has room; `nil` when it is full.
    func index(of name: String) -> Int? {
        names.withLock { names in
            if let index = names.indexes[name] { return index }
            guard names.list.count < Self.capacity else { return nil }
            names.list.append(name)
            names.indexes[name] = names.list.count - 1
            return names.list.count - 1
        }
    }
}
