/// The keyed containers a ``JSONReader`` keeps for reuse, by depth and key type.
///
/// `KeyedDecodingContainer(_:)` allocates a box for the container and, called from code that
/// is generic over the key type (as `Decoder.container(keyedBy:)` always is), looks up the
/// metadata of the container and of the box and the container's conformance at run time: for
/// a small record decoded through `Codable`, more than a fifth of the decoding's time. A reader
/// keeps the containers it made, one per key type and depth of the coding path, and hands one
/// out again, pointed at the next object (``objects``), when nobody
/// else holds it any more: the box is then referenced by this table alone. A container a model
/// keeps (stored in a property, or taken a second time while the first is in use) is never
/// re-pointed; the next call at its depth makes a container of its own, as before.
///
/// Only decoders on the coding path (``JSONReader/decode(_:from:key:)``) of a thread's own
/// reader use kept containers; those handed out by `superDecoder` and `nestedContainer` make
/// their own. The first 32 (key type, depth) pairs a thread meets are kept for the thread's
/// life; later ones are made per call, as before.
struct JSONKeptKeyedContainers {
    /// Depths from 0 up to this one keep containers (deeper documents are rare).
    static let maximumDepth: Int32 = 16
    /// Containers kept in all (key types × depths); beyond, each call makes one.
    static let maximumCount = 32

    // Parallel arrays, by slot: a kept container's key type, depth, box (the container's
    // only stored property; see ``canKeep``) and the object it reads. Plain arrays of values,
    // so that the uniqueness check reaches the box in place without retaining it (each retain
    // and release is an atomic operation, and there are few other costs left per container).
    var keyTypes: [ObjectIdentifier] = []
    var depths: [Int32] = []
    var boxes: [Box] = []
    /// The object token each kept container reads (see `JSONKeyedDecodingContainer.object`).
    var objects: [Int] = []

    /// Stands for the standard library's box class (`_KeyedDecodingContainerBox`, which cannot
    /// be named here): a reference held as this type is only retained, released and checked for
    /// uniqueness, which work alike for every Swift object, and cast back to the container.
    /// (Held as `AnyObject` instead, Swift 6 opens the existential into a copy for
    /// `isKnownUniquelyReferenced`, which then never sees a unique reference.) Never made.
    final class Box {
        private init() {}
    }

    /// Whether a `KeyedDecodingContainer` is a single reference to its box, as in every Swift
    /// release so far; checked once per process on a probe container. If not, nothing is kept.
    static let canKeep: Bool = {
        guard MemoryLayout<KeyedDecodingContainer<ProbeKey>>.size == MemoryLayout<AnyObject>.size,
            MemoryLayout<KeyedDecodingContainer<ProbeKey>>.alignment == MemoryLayout<AnyObject>.alignment
        else { return false }
        let probe = KeyedDecodingContainer(JSONKeyedDecodingContainer<ProbeKey>(reader: JSONReader(), object: 0, depth: 0, fixedPath: nil))
        return String(describing: type(of: unsafeBitCast(probe, to: AnyObject.self))).hasPrefix("_KeyedDecodingContainerBox<")
    }()

    private enum ProbeKey: CodingKey {}
}

extension JSONReader {
    /// A container for `Key` at `depth` pointed at `object`: a kept one that nobody holds, else
    /// a new one (kept if there is room).
    func keyedContainer<Key: CodingKey>(keyedBy type: Key.Type, object: Int, depth: Int32) -> KeyedDecodingContainer<Key> {
        func made() -> KeyedDecodingContainer<Key> {
            KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(reader: self, object: object, depth: Int(depth), fixedPath: nil))
        }
        // Only the thread's own reader keeps containers: one made for a single run (a decode
        // nested in a model's `init(from:)`) would throw them away at its end.
        guard isThreadCached, depth <= JSONKeptKeyedContainers.maximumDepth, JSONKeptKeyedContainers.canKeep else { return made() }
        let keyType = ObjectIdentifier(Key.self)
        var slot = 0
        while slot < kept.keyTypes.count && (kept.keyTypes[slot] != keyType || kept.depths[slot] != depth) { slot += 1 }
        if slot < kept.keyTypes.count {
            // Held by this table alone: no container made from it is in use.
            guard isKnownUniquelyReferenced(&kept.boxes[slot]) else { return made() }
            kept.objects[slot] = object
            return unsafeBitCast(kept.boxes[slot], to: KeyedDecodingContainer<Key>.self)
        }
        guard slot < JSONKeptKeyedContainers.maximumCount else { return made() }
        let container = KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(reader: self, slot: slot, depth: Int(depth)))
        kept.keyTypes.append(keyType)
        kept.depths.append(depth)
        kept.boxes.append(unsafeBitCast(container, to: JSONKeptKeyedContainers.Box.self))
        kept.objects.append(object)
        return container
    }
}
