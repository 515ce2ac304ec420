import Sluice
import Synchronization

/// One reading, as the sensors write it.
struct Reading: Codable, Sendable {
    let id: Int
    let time: Double
    let value: Int
}

/// A window's sum and count.
struct SumCount: Codable, Sendable {
    var sum = 0
    var count = 0
}

/// The reference IoT job: per-sensor sums over 10 s tumbling event-time windows, published
/// to Kafka exactly once.
///
/// Each result carries `emitted_ms`, the wall clock when the engine handed the result to the
/// sink (the window had just closed), so the report can measure close-to-publish latency
/// against the output record's timestamp (set when the record is produced).
enum IoTJob {
    typealias Processor = WindowAggregator<Int, Reading, SumCount>

    static let windowMilliseconds: Int64 = 10_000

    /// Wall-clock milliseconds at which the job first took a reading's event time (0: none yet):
    /// the pipeline's "first record" for the rate, as the C ceiling's is its first record. Set
    /// once; every later reading costs one relaxed load.
    static let firstReadingWallMs = Atomic<Int64>(0)

    @inline(__always)
    static func noteReading() {
        if firstReadingWallMs.load(ordering: .relaxed) == 0 {
            _ = firstReadingWallMs.compareExchange(expected: 0, desired: Measure.wallMilliseconds(), ordering: .relaxed)
        }
    }

    /// How the job turns a record's JSON into a ``Reading``.
    enum Decoding: String, CaseIterable, Codable, Sendable {
        /// `Reading`'s synthesized `Decodable` conformance through ``FastJSONDecoder``: the reference job.
        case codable
        /// The three fields read by name with ``JSONObjectFields``, no `Codable`.
        case fields
    }

    static func definition(name: String, input: String, output: String, decoding: Decoding) -> PipelineDefinition<Processor> {
        let pipeline = Pipeline(name)
        let source = KafkaSource(topic: input)
        let stage: SourceStage<Reading> =
            switch decoding {
            case .codable: pipeline.source(source, decoding: Reading.self)
            case .fields:
                pipeline.source(source, readingJSONObject: { fields in
                    Reading(id: try fields.int("id"), time: try fields.double("time"), value: try fields.int("value"))
                })
            }
        return stage
            .eventTime { reading in
                noteReading()
                return reading.time
            }
            .watermarks(outOfOrderness: .seconds(1), idleTimeout: nil)
            .key(by: { $0.id })
            .window(.tumbling(.milliseconds(windowMilliseconds)))
            .aggregate(into: SumCount()) { accumulator, reading in
                accumulator.sum += reading.value
                accumulator.count += 1
            }
            .sink(
                KafkaSink(topic: output) { result in
                    let body =
                        "{\"id\":\(result.key),\"window_start\":\(result.window.start.millisecondsSinceEpoch),\"sum\":\(result.value.sum),\"count\":\(result.value.count),\"emitted_ms\":\(Measure.wallMilliseconds())}"
                    return SinkRecord(key: Array(String(result.key).utf8), value: Array(body.utf8))
                })
    }
}
