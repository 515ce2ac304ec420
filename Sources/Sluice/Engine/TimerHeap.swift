/// A binary min-heap of timers with their keys, earliest first.
struct TimerHeap<Key> {
    struct Entry {
        var time: Int64
        var key: Key
    }

    private var storage: [Entry] = []

    var isEmpty: Bool { storage.isEmpty }
    var count: Int { storage.count }
    var earliest: Int64? { storage.first?.time }

    mutating func insert(time: Int64, key: Key) {
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
    mutating func popDue(atOrBefore time: Int64) -> [Entry] {
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

    private mutating func siftDown(from index: Int) {
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
