/// The keyed containers a ``JSONReader`` keeps for reuse, by depth and key type.
///
/// `KeyedDecodingContainer(_:)` allocates a box for the container and, called from code that
/// is generic over the key type (as `Decoder.container(keyedBy:)` always is), looks up the
/// metadata of the container and of the box and the container's conformance at run time: for
/// a small record decoded through `Codable`, more than a fifth of the decoding's time. A reader
/// keeps the containers it made, one per key type and depth of the coding path, and hands one
/// out again, pointed at the next object (``JSONReader/keyedContainerObjects``), when nobody
/// else holds it any more: the box is then referenced by this table alone. A container a model
/// keeps (stored in a property, or taken a second time while the first is in use) is never
/// re-pointed; the next call at its depth makes a container of its own, as before.
///
/// Only decoders on the coding path (``JSONReader/decode(_:from:key:)``) use kept containers;
/// those handed out by `superDecoder` and `nestedContainer` make their own.
struct JSONKeptKeyedContainers {
    /// Depths from 0 up to this one keep containers (deeper documents are rare).
    static let maximumDepth: Int32 = 16
    /// Containers kept in all (key types × depths); beyond, each call makes one.
    static let maximumCount = 32

    // Parallel arrays, by slot: a kept container's key type, depth and box (the container's
    // only stored property; see ``box(of:)``). Plain arrays of values, so that the uniqueness
    // check reaches the box in place without retaining it (each retain and release is an
    // atomic operation, and there are few other costs left per container).
    var keyTypes: [ObjectIdentifier] = []
    var depths: [Int32] = []
    var boxes: [Box] = []

    /// Stands for the standard library's box class (`_KeyedDecodingContainerBox`, which cannot
    /// be named here): a reference held as this type is only retained, released and checked for
    /// uniqueness, which work alike for every Swift object, and cast back to the container.
    /// (Held as `AnyObject` instead, Swift 6 opens the existential into a copy for
    /// `isKnownUniquelyReferenced`, which then never sees a unique reference.) Never made.
    final class Box {
        private init() {}
    }

    /// The box of `container`, or `nil` if `KeyedDecodingContainer` is not (as in every Swift
    /// release so far) a single reference to its box, in which case nothing is kept.
    static func box<Key: CodingKey>(of container: KeyedDecodingContainer<Key>) -> Box? {
        guard MemoryLayout<KeyedDecodingContainer<Key>>.size == MemoryLayout<AnyObject>.size,
            MemoryLayout<KeyedDecodingContainer<Key>>.alignment == MemoryLayout<AnyObject>.alignment
        else { return nil }
        let object = unsafeBitCast(container, to: AnyObject.self)
        guard String(describing: type(of: object)).hasPrefix("_KeyedDecodingContainerBox<") else { return nil }
        return unsafeBitCast(object, to: Box.self)
    }
}

extension JSONReader {
    /// A container for `Key` at `depth` pointed at `object`: a kept one that nobody holds, else
    /// a new one (kept if there is room).
    func keyedContainer<Key: CodingKey>(keyedBy type: Key.Type, object: Int, depth: Int32) -> KeyedDecodingContainer<Key> {
        guard depth <= JSONKeptKeyedContainers.maximumDepth else {
            return KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(reader: self, object: object, depth: Int(depth), fixedPath: nil))
        }
        let keyType = ObjectIdentifier(Key.self)
        var slot = 0
        while slot < kept.keyTypes.count && (kept.keyTypes[slot] != keyType || kept.depths[slot] != depth) { slot += 1 }
        if slot < kept.keyTypes.count {
            // Held by this table alone: no container made from it is in use.
            if isKnownUniquelyReferenced(&kept.boxes[slot]) {
                keyedContainerObjects[slot] = object
                return unsafeBitCast(kept.boxes[slot], to: KeyedDecodingContainer<Key>.self)
            }
            return KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(reader: self, object: object, depth: Int(depth), fixedPath: nil))
        }
        guard slot < JSONKeptKeyedContainers.maximumCount else {
            return KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(reader: self, object: object, depth: Int(depth), fixedPath: nil))
        }
        let container = KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(reader: self, slot: slot, depth: Int(depth)))
        guard let box = JSONKeptKeyedContainers.box(of: container) else {
            return KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(reader: self, object: object, depth: Int(depth), fixedPath: nil))
        }
        kept.keyTypes.append(keyType)
        kept.depths.append(depth)
        kept.boxes.append(box)
        keyedContainerObjects.append(object)
        return container
    }
}
