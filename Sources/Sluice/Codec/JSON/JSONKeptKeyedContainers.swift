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
    static let maximumDepth = 16
    /// Containers kept per depth (key types seen there); beyond, each call makes one.
    static let maximumPerDepth = 8

    /// A kept container: its box (the container's only stored property; see ``box(of:)``),
    /// the key type and the slot in ``JSONReader/keyedContainerObjects`` it reads its object from.
    /// A class, so that the uniqueness check reaches the box in place (through an array of
    /// structs it could meet a copy of the array, holding a second reference).
    final class Entry {
        let keyType: ObjectIdentifier
        var box: Box
        let slot: Int

        init(keyType: ObjectIdentifier, box: Box, slot: Int) {
            self.keyType = keyType
            self.box = box
            self.slot = slot
        }
    }

    /// By depth.
    var entries: [[Entry]] = Array(repeating: [], count: maximumDepth + 1)

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
        let depth = Int(depth)
        guard depth <= JSONKeptKeyedContainers.maximumDepth else {
            return KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(reader: self, object: object, depth: depth, fixedPath: nil))
        }
        let keyType = ObjectIdentifier(Key.self)
        for entry in keptKeyedContainers.entries[depth] where entry.keyType == keyType {
            // Held by this table alone: no container made from it is in use.
            guard isKnownUniquelyReferenced(&entry.box) else { break }
            keyedContainerObjects[entry.slot] = object
            return unsafeBitCast(entry.box, to: KeyedDecodingContainer<Key>.self)
        }
        guard keptKeyedContainers.entries[depth].count < JSONKeptKeyedContainers.maximumPerDepth,
            !keptKeyedContainers.entries[depth].contains(where: { $0.keyType == keyType })
        else {
            return KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(reader: self, object: object, depth: depth, fixedPath: nil))
        }
        let slot = keyedContainerObjects.count
        let container = KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(reader: self, slot: slot, depth: depth))
        guard let box = JSONKeptKeyedContainers.box(of: container) else {
            return KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(reader: self, object: object, depth: depth, fixedPath: nil))
        }
        keyedContainerObjects.append(object)
        keptKeyedContainers.entries[depth].append(.init(keyType: keyType, box: box, slot: slot))
        return container
    }
}
