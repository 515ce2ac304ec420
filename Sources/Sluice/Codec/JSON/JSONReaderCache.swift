#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One ``JSONReader`` per thread, kept in a pthread thread-specific slot, so that decoding a small
/// record allocates neither a reader nor a token buffer.
///
/// Safe without a lock because a slot is only ever read and written by its own thread. A decode
/// call is synchronous, so it cannot move to another thread while it uses the reader. The
/// reader's `isInUse` flag guards against reentrancy: a model's `init(from:)` that calls
/// ``FastJSONDecoder`` itself gets a fresh reader, leaving the outer run's tokens alone. Values
/// returned from a run never point into the reader: strings are copied out of the input.
enum JSONReaderCache {
    /// The slot; its destructor releases a thread's reader when the thread exits.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let result = pthread_key_create(&key) { releaseCachedReader($0) }
        precondition(result == 0, "pthread_key_create failed with \(result)")
        return key
    }()

    /// A reader for one run, marked in use: the thread's own reader unless a run is already using
    /// it on this thread. Call `finish()` on it when the run ends.
    ///
    /// Returned unretained, with `owned` set only for a reader made for this run alone: the
    /// thread's reader is kept alive by the slot, and a retain and release of it per run (per
    /// record decoded) cost a noticeable share of a fast job's CPU.
    @inline(__always)
    static func acquire() -> (reader: Unmanaged<JSONReader>, owned: JSONReader?) {
        if let raw = pthread_getspecific(key) {
            // The slot holds a +1 reference (see below) until the thread exits, so the reader
            // outlives this call without another retain.
            let cached = Unmanaged<JSONReader>.fromOpaque(raw)
            let isFree = cached._withUnsafeGuaranteedRef { reader in
                guard !reader.isInUse else { return false }
                reader.isInUse = true
                return true
            }
            if isFree { return (cached, nil) }
            return held(JSONReader())
        }
        let reader = JSONReader()
        if pthread_setspecific(key, Unmanaged.passRetained(reader).toOpaque()) != 0 {
            // No slot: the run works with a reader of its own, the next one tries again.
            Unmanaged.passUnretained(reader).release()
        } else {
            reader.isThreadCached = true
        }
        return held(reader)
    }

    /// `reader` marked in use and also returned as `owned`, for the run to hold.
    private static func held(_ reader: JSONReader) -> (reader: Unmanaged<JSONReader>, owned: JSONReader?) {
        reader.isInUse = true
        return (Unmanaged.passUnretained(reader), reader)
    }
}

/// The slot destructor: releases the reference `acquire()` stored.
private func releaseCachedReader(_ raw: UnsafeMutableRawPointer?) {
    guard let raw else { return }
    Unmanaged<JSONReader>.fromOpaque(raw).release()
}
