import Synchronization

/// Key names shared by many state documents, each stored once instead of once per document.
///
/// A ``BinaryStateEncoder`` made with a table writes format version 2: a document whose
/// entries refer to the field names of its types by their index in the table. Only the keys of
/// dictionaries with `String` keys, which are data rather than a schema, and names that arrive
/// once the table holds ``capacity`` names, stay in the document. (A hand-written `CodingKey`
/// type that makes up names from data, rather than naming fields, fills the table the same way
/// until it is full.) For the IoT job's state (the timer and window of one sensor) a document
/// takes 49 bytes instead of 134 for a self-contained (version 1) one.
///
/// The table only grows, and an index never changes, so documents stay readable for as long as
/// the table is kept with them: a checkpoint store that offers one
/// (``CheckpointStore/stateKeyTable``) saves the names in the same commit as the documents that
/// use them, and loads them again when opened. Which index a name gets depends on the order in
/// which names were first encoded, so the bytes of a value depend on the table it was encoded with.
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
                    .decoding, "the state key table holds '\(name)' twice (at \(earlier) and \(index))")
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

    /// Every name and its index; once the table is full it never changes again.
    var indexes: [String: Int] { names.withLock { $0.indexes } }

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
