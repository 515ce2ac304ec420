/// A keyed container that a ``JSONReader`` keeps for reuse, for one key type and depth.
///
/// `KeyedDecodingContainer(_:)` allocates a box for the container and, called from code that
/// is generic over the key type (as `Decoder.container(keyedBy:)` always is), looks up the
/// metadata of the container and the box and the container's conformance at run time: for a
/// small record decoded through `Codable`, more than a fifth of the decoding's time. A reader
/// makes the container once per key type and depth and afterwards only points it at the next
/// object (``JSONReader/keyedContainerObjects``).
///
/// Reuse is safe because the containers alive at any moment are those of the `init(from:)`
/// calls in progress, one per depth of the coding path: every decoder on the path (made by
/// ``JSONReader/decode(_:from:key:)``, which pushes a key) is one level deeper than the
/// decoder it came from, so a container is only re-pointed after the `init(from:)` that
/// used it at that depth has returned. Decoders handed out by `superDecoder` and
/// `nestedContainer`, which may be kept side by side at one depth, get containers of their own.
/// A container must not be used after the `init(from:)` it was made for returns (as with every
/// decoder of ``FastJSONDecoder``, which also hold their reader unretained).
final class JSONKeyedContainerHolder<Key: CodingKey> {
    let container: KeyedDecodingContainer<Key>

    init(_ container: KeyedDecodingContainer<Key>) {
        self.container = container
    }
}

extension JSONReader {
    /// At most this many containers are kept (key types × depths); beyond, each call makes one.
    static let keptKeyedContainers = 64

    /// The kept container for `Key` at `depth`, pointed at `object`; made on first use.
    func keyedContainer<Key: CodingKey>(keyedBy type: Key.Type, object: Int, depth: Int32) -> KeyedDecodingContainer<Key> {
        let keyType = ObjectIdentifier(Key.self)
        for slot in keyedContainers.indices where keyedContainers[slot].keyType == keyType && keyedContainers[slot].depth == depth {
            keyedContainerObjects[slot] = object
            return unsafeDowncast(keyedContainers[slot].holder, to: JSONKeyedContainerHolder<Key>.self).container
        }
        guard keyedContainers.count < Self.keptKeyedContainers else {
            return KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(reader: self, object: object, depth: Int(depth), fixedPath: nil))
        }
        let slot = keyedContainers.count
        let container = KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(reader: self, slot: slot, depth: Int(depth)))
        keyedContainers.append((keyType, depth, JSONKeyedContainerHolder(container)))
        keyedContainerObjects.append(object)
        return container
    }
}
