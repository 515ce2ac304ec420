@testable import Sluice
import Testing

/// `FastJSONDecoder` reuses one reader and token buffer per thread: these tests check that reuse
/// never leaks state from one call into another.
@Suite("Codec: JSON reader reuse")
struct CodecJSONReuseTests {
    let fast = FastJSONDecoder()

    func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try fast.decode(type, from: Array(text.utf8))
    }

    /// A model whose `init(from:)` decodes JSON embedded in one of its fields with a second
    /// `FastJSONDecoder` call, between reading its own fields.
    struct Envelope: Decodable, Equatable {
        let before: Int
        let inner: Reading
        let after: String

        enum CodingKeys: String, CodingKey { case before, inner, after }

        init(before: Int, inner: Reading, after: String) {
            self.before = before
            self.inner = inner
            self.after = after
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            before = try container.decode(Int.self, forKey: .before)
            let text = try container.decode(String.self, forKey: .inner)
            inner = try FastJSONDecoder().decode(Reading.self, from: Array(text.utf8))
            after = try container.decode(String.self, forKey: .after)
        }
    }

    @Test("A model's init(from:) may decode JSON itself without disturbing the outer run")
    func nested() throws {
        let text = #"{"before": 1, "inner": "{\"id\": 2, \"time\": 3.5, \"value\": 4, \"pad\": [1, 2, 3, 4, 5]}", "after": "x"}"#
        #expect(try decode(Envelope.self, text) == Envelope(before: 1, inner: Reading(id: 2, time: 3.5, value: 4), after: "x"))
        #expect(try decode([Envelope].self, "[\(text), \(text)]").count == 2)
        // The outer run's errors still name the outer path and the thread's reader is usable afterwards.
        let error = try #require(throws: SluiceError.self) {
            try decode(Envelope.self, #"{"before": 1, "inner": "{\"id\": true}", "after": "x"}"#)
        }
        #expect(error.message.contains("'id'"))
        #expect(try decode(Reading.self, #"{"id": 5, "time": 6, "value": 7}"#) == Reading(id: 5, time: 6, value: 7))
    }

    @Test("Large and small documents alternate, and errors leave the reader reusable")
    func sizesAndErrors() throws {
        let big = (0..<20_000).map { $0 }
        let bigText = "[" + big.map(String.init).joined(separator: ",") + "]"
        for _ in 0..<2 {
            #expect(try decode([Int].self, bigText) == big)
            #expect(try decode(Reading.self, #"{"id": 1, "time": 2, "value": 3}"#) == Reading(id: 1, time: 2, value: 3))
            #expect(throws: SluiceError.self) { try decode(Reading.self, #"{"id": 1, "time": 2, "value": [}"#) }
            #expect(throws: SluiceError.self) { try decode(Reading.self, #"{"id": 1, "value": 3}"#) }
            #expect(try decode([String: [Int]].self, #"{"a": [1], "a": [2]}"#) == ["a": [2]])
            #expect(try decode(Reading.self, #"{"value": 3, "id": 1, "time": 2}"#) == Reading(id: 1, time: 2, value: 3))
        }
    }

    @Test("Decoded strings do not alias the reader's buffers")
    func stringsAreCopies() throws {
        struct Named: Decodable { let name: String }
        let first = try decode(Named.self, #"{"name": "caf\u00e9 one"}"#)
        let second = try decode(Named.self, #"{"name": "tea\n two"}"#)
        let plain = try decode(Named.self, #"{"name": "plain three"}"#)
        _ = try decode(Named.self, #"{"name": "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}"#)
        #expect(first.name == "café one" && second.name == "tea\n two" && plain.name == "plain three")
    }

    @Test("Many tasks decode concurrently, each getting its own records back")
    func concurrent() async throws {
        let decoder = FastJSONDecoder()
        let sums = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for task in 0..<8 {
                group.addTask {
                    var sum = 0
                    for i in 0..<2_000 {
                        let id = task * 100_000 + i
                        let pad = String(repeating: " ", count: i % 50)
                        let bytes = Array(#"{"id": \#(id),\#(pad) "time": \#(i).5, "value": \#(i % 7)}"#.utf8)
                        let reading = try decoder.decode(Reading.self, from: bytes)
                        guard reading.id == id, reading.time == Double(i) + 0.5 else { return (task, -1) }
                        sum += reading.value
                    }
                    return (task, sum)
                }
            }
            var sums: [Int: Int] = [:]
            for try await (task, sum) in group { sums[task] = sum }
            return sums
        }
        let expected = (0..<2_000).reduce(0) { $0 + $1 % 7 }
        #expect(sums.count == 8 && sums.values.allSatisfy { $0 == expected })
    }

    /// A tree whose synthesized `init(from:)` reads `size` after decoding its children: every
    /// level's container must still read its own object after the levels below it used theirs.
    struct Tree: Codable, Equatable {
        let name: String
        let children: [Tree]
        let size: Int
    }

    /// Keeps its own container while taking containers of the same key type for two sibling
    /// objects (`nestedContainer`, `superDecoder`) and decoding a value of its own type below
    /// it, then reads its own fields.
    struct Sides: Decodable, Equatable {
        let a: Int
        let left: Int
        let right: Int
        let below: [Sides]
        let b: Int

        enum Keys: String, CodingKey { case a, b, left, right, below }

        init(a: Int, left: Int, right: Int, below: [Sides], b: Int) {
            (self.a, self.left, self.right, self.below, self.b) = (a, left, right, below, b)
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            let leftSide = try container.nestedContainer(keyedBy: Keys.self, forKey: .left)
            let rightSide = try container.superDecoder(forKey: .right).container(keyedBy: Keys.self)
            below = try container.decodeIfPresent([Sides].self, forKey: .below) ?? []
            left = try leftSide.decode(Int.self, forKey: .a)
            right = try rightSide.decode(Int.self, forKey: .a)
            a = try container.decode(Int.self, forKey: .a)
            b = try container.decode(Int.self, forKey: .b)
        }
    }

    @Test("Containers reused across depths, siblings and key types each read their own object")
    func reusedContainers() throws {
        let tree = Tree(
            name: "root",
            children: [
                Tree(name: "a", children: [Tree(name: "a1", children: [], size: 1), Tree(name: "a2", children: [], size: 2)], size: 3),
                Tree(name: "b", children: [], size: 4),
            ],
            size: 5)
        let treeText = String(decoding: try FastJSONEncoder().encode(tree), as: UTF8.self)
        let sidesText = #"""
            {"b": 2, "left": {"a": 10}, "right": {"a": 20},
             "below": [{"a": 3, "b": 4, "left": {"a": 30}, "right": {"a": 40}},
                       {"a": 5, "b": 6, "left": {"a": 50}, "right": {"a": 60}, "below": []}],
             "a": 1}
            """#
        let sides = Sides(
            a: 1, left: 10, right: 20,
            below: [Sides(a: 3, left: 30, right: 40, below: [], b: 4), Sides(a: 5, left: 50, right: 60, below: [], b: 6)], b: 2)
        // Alternating types and depths on the same thread's reader, twice over.
        for _ in 0..<2 {
            #expect(try decode(Tree.self, treeText) == tree)
            #expect(try decode(Sides.self, sidesText) == sides)
            #expect(try decode([Tree].self, "[\(treeText), \(treeText)]") == [tree, tree])
            #expect(try decode([String: Sides].self, #"{"x": \#(sidesText)}"#) == ["x": sides])
            #expect(try decode(Reading.self, #"{"id": 1, "time": 2, "value": 3}"#) == Reading(id: 1, time: 2, value: 3))
            // A run that fails halfway, then the same shapes again.
            #expect(throws: SluiceError.self) { try decode(Tree.self, #"{"name": "x", "children": [{"name": "y", "children": [], "size": true}], "size": 1}"#) }
            #expect(try decode(Tree.self, treeText) == tree)
        }
    }

    /// Keeps the container it was given, to read it after its parent decoded its siblings.
    struct Kept: Decodable {
        enum Keys: String, CodingKey { case id }
        let container: KeyedDecodingContainer<Keys>
        /// The container's coding path while its `init(from:)` ran.
        let path: String

        init(from decoder: any Decoder) throws {
            container = try decoder.container(keyedBy: Keys.self)
            path = container.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
    }

    /// Reads every kept container once all of them are decoded, within the same run.
    struct KeptList: Decodable {
        let ids: [Int]
        let paths: [String]
        enum Keys: String, CodingKey { case items }

        init(from decoder: any Decoder) throws {
            let items = try decoder.container(keyedBy: Keys.self).decode([Kept].self, forKey: .items)
            ids = try items.map { try $0.container.decode(Int.self, forKey: .id) }
            paths = items.map(\.path)
        }
    }

    /// A list nested `levels` deep, each level reading its `level` field after its child.
    struct Deep: Decodable, Equatable {
        let level: Int
        let child: [Deep]
        var depth: Int { 1 + (child.first?.depth ?? 0) }
    }

    indirect enum Shape: Codable, Equatable {
        case circle(radius: Int)
        case pair(Shape, Shape)
    }

    class Base: Decodable {
        let id: Int
        private enum CodingKeys: String, CodingKey { case id }
        required init(from decoder: any Decoder) throws {
            id = try decoder.container(keyedBy: CodingKeys.self).decode(Int.self, forKey: .id)
        }
    }

    final class Derived: Base {
        let name: String
        private enum CodingKeys: String, CodingKey { case name }
        required init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            try super.init(from: decoder)
        }
    }

    @Test("Containers a model keeps stay on their own object; deep documents, enums and subclasses decode")
    func keptContainers() throws {
        for _ in 0..<2 {
            let list = try decode(KeptList.self, #"{"items": [{"id": 1}, {"id": 2}, {"id": 3}]}"#)
            #expect(list.ids == [1, 2, 3])
            #expect(list.paths == ["items.0", "items.1", "items.2"])
            // Deeper than the depths that keep containers (16): 40 levels, twice over.
            var text = #"{"level": 40, "child": []}"#
            for level in (1..<40).reversed() { text = #"{"child": [\#(text)], "level": \#(level)}"# }
            let deep = try decode(Deep.self, text)
            #expect(deep.depth == 40)
            var levels: [Int] = []
            var node: Deep? = deep
            while let current = node { levels.append(current.level); node = current.child.first }
            #expect(levels == Array(1...40))
            let shape = Shape.pair(.circle(radius: 1), .pair(.circle(radius: 2), .circle(radius: 3)))
            #expect(try decode(Shape.self, String(decoding: try FastJSONEncoder().encode(shape), as: UTF8.self)) == shape)
            let derived = try decode([Derived].self, #"[{"id": 1, "name": "a"}, {"name": "b", "id": 2}]"#)
            #expect(derived.map(\.id) == [1, 2] && derived.map(\.name) == ["a", "b"])
        }
    }

    /// Tells which box its container came in (a `KeyedDecodingContainer` is a reference to one).
    struct BoxSpy: Decodable {
        enum Keys: String, CodingKey { case a }
        let box: ObjectIdentifier
        let a: Int

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            box = ObjectIdentifier(unsafeBitCast(container, to: AnyObject.self))
            a = try container.decode(Int.self, forKey: .a)
        }
    }

    @Test("Runs one after another on a thread get the same container; one kept by a model is not handed out")
    func containerIsReused() throws {
        // This thread's reader, with its table emptied (other tests on this thread may have
        // filled it); the test is synchronous, so no other run uses the reader meanwhile.
        var (unmanaged, owned) = JSONReaderCache.acquire()
        if owned != nil {
            // The thread's first reader: made now, and handed out as owned as well. Once it is
            // finished, the next acquire finds it in the thread's slot.
            unmanaged.takeUnretainedValue().finish()
            (unmanaged, owned) = JSONReaderCache.acquire()
        }
        let reader = unmanaged.takeUnretainedValue()
        reader.finish()
        try #require(owned == nil && reader.isThreadCached)
        reader.kept = JSONKeptKeyedContainers()

        let first = try decode(BoxSpy.self, #"{"a": 1}"#)
        let second = try decode(BoxSpy.self, #"{"a": 2}"#)
        let elements = try decode([BoxSpy].self, #"[{"a": 3}, {"a": 4}]"#)
        // Kept by the table, so the same box cannot be a new one at a reused address.
        #expect(reader.kept.depths == [0, 1] && reader.kept.boxes.count == 2)
        let keptAtTop = ObjectIdentifier(reader.kept.boxes[0])
        #expect(first.box == keptAtTop && second.box == keptAtTop && second.a == 2)
        #expect(elements[0].box == ObjectIdentifier(reader.kept.boxes[1]) && elements[1].box == elements[0].box)
        #expect(elements.map(\.a) == [3, 4])
        // While a model holds the container it was given, the next run gets another one (the
        // kept one itself may only be used during its own run).
        let kept = try decode(Kept.self, #"{"id": 5}"#)
        let meanwhile = try decode(Kept.self, #"{"id": 6}"#)
        #expect(ObjectIdentifier(unsafeBitCast(kept.container, to: AnyObject.self)) != ObjectIdentifier(unsafeBitCast(meanwhile.container, to: AnyObject.self)))
    }
}
