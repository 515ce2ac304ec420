#ifndef SLUICE_BENCH_RAW_KAFKA_H
#define SLUICE_BENCH_RAW_KAFKA_H

#include <stddef.h>
#include <stdint.h>

/// What one raw loop measured.
typedef struct raw_kafka_result {
    /// Records counted (consumer) or delivered (producer).
    int64_t records;
    /// Sum of value lengths of those records.
    int64_t bytes;
    /// Monotonic clock, nanoseconds: when the loop started (assign / first produce).
    int64_t start_ns;
    /// When the first record arrived (consumer) or was enqueued (producer).
    int64_t first_ns;
    /// When the last record arrived (consumer) or the flush finished (producer).
    int64_t end_ns;
    /// Non-zero on failure; `message` then says why.
    int error;
    char message[256];
} raw_kafka_result;

/// The monotonic clock in nanoseconds (CLOCK_MONOTONIC), shared with the Swift side.
int64_t raw_kafka_now_ns(void);

/// Assigns partitions 0..<partitions of `topic` from the beginning and counts records until
/// `expected` arrived or `timeout_ms` passed without progress. `queued_min_messages` sets
/// librdkafka's prefetch depth per partition (its 100,000 default stalls fast consumers).
void raw_kafka_consume_count(const char *bootstrap, const char *topic, int partitions, int64_t expected,
                             int queued_min_messages, int batch_size, int timeout_ms, raw_kafka_result *out);

/// A plain C producer with librdkafka's delivery-report callback counting deliveries.
typedef struct raw_kafka_producer raw_kafka_producer;

/// Creates a producer. `idempotent` sets enable.idempotence; `linger_ms`, `max_queued` set
/// linger.ms and queue.buffering.max.messages. Returns NULL and fills `error` on failure.
raw_kafka_producer *raw_kafka_producer_new(const char *bootstrap, int idempotent, int linger_ms, int max_queued,
                                           char *error, size_t error_size);

/// Produces records i in 0..<count: key `keys[key_offsets[i]..<key_offsets[i+1]]`, value
/// likewise, to `topic` (partition chosen by librdkafka's murmur2_random partitioner), copying
/// each payload (RD_KAFKA_MSG_F_COPY). Waits in rd_kafka_poll while the queue is full.
/// Fills start/first and counts into `out` (records = enqueued so far); no flush.
void raw_kafka_producer_send(raw_kafka_producer *producer, const char *topic, const uint8_t *keys,
                             const int64_t *key_offsets, const uint8_t *values, const int64_t *value_offsets,
                             int64_t count, raw_kafka_result *out);

/// Waits until every record is delivered; sets `out->end_ns`, and `out->records` to the
/// number delivered without error (failures go to `out->error`).
void raw_kafka_producer_flush(raw_kafka_producer *producer, int timeout_ms, raw_kafka_result *out);

/// Produces one record to `topic` and waits for it, so that connecting, the producer id and
/// the topic's metadata are settled before a timed loop; the record is not counted.
/// Returns 0, or -1 with `error` filled.
int raw_kafka_producer_warm_up(raw_kafka_producer *producer, const char *topic, char *error, size_t error_size);

/// Destroys the producer.
void raw_kafka_producer_destroy(raw_kafka_producer *producer);

/// The low and high watermark of one partition, asked of the broker. Returns 0 on success.
int raw_kafka_watermarks(const char *bootstrap, const char *topic, int partitions, int64_t *lows, int64_t *highs,
                         char *error, size_t error_size);

#endif
