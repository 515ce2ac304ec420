/// A binary min-heap of timers with their keys, earliest first.
@usableFromInline
struct TimerHeap<Key> {
    @usableFromInline
    struct Entry {
        @usableFromInline var time: Int64
        @usableFromInline var key: Key

        @inlinable init(time: Int64, key: Key) {
            self.time = time
            self.key = key
        }
    }

    @usableFromInline var storage: [Entry] = []

    @inlinable init() {}

    @inlinable var isEmpty: Bool { storage.isEmpty }
    @inlinable var count: Int { storage.count }
    @inlinable var earliest: Int64? { storage.first?.time }

    @inlinable mutating func insert(time: Int64, key: Key) {
        storage.append(Entry(time: time, key: key))
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard storage[child].time < storage[parent].time else { break }
            storage.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns every entry due at or before `time`.
    @inlinable mutating func popDue(atOrBefore time: Int64) -> [Entry] {
        var due: [Entry] = []
        while let first = storage.first, first.time <= time {
            due.append(first)
            let last = storage.removeLast()
            if storage.isEmpty { break }
            storage[0] = last
            siftDown(from: 0)
        }
        return due
    }

    @inlinable mutating func siftDown(from index: Int) {
        var parent = index
        let count = storage.count
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < count && storage[left].time < storage[smallest].time { smallest = left }
            if right < count && storage[right].time < storage[smallest].time { smallest = right }
            if smallest == parent { return }
            storage.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
