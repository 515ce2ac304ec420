// Plain librdkafka loops: the ceiling Sluice is measured against. They do nothing but
// count, so whatever they reach is what librdkafka and the broker allow on this machine.
#include "RawKafka.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t raw_kafka_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fail(raw_kafka_result *out, const char *what, const char *detail) {
    out->error = 1;
    snprintf(out->message, sizeof out->message, "%s: %s", what, detail ? detail : "");
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value, char *error, size_t size) {
    return rd_kafka_conf_set(conf, name, value, error, size) == RD_KAFKA_CONF_OK ? 0 : -1;
}

void raw_kafka_consume_count(const char *bootstrap, const char *topic, int partitions, int64_t expected,
                             int queued_min_messages, int batch_size, int timeout_ms, raw_kafka_result *out) {
    memset(out, 0, sizeof *out);
    char error[512];
    char group[64];
    char queued[32];
    snprintf(group, sizeof group, "raw-count-%lld", (long long)raw_kafka_now_ns());
    snprintf(queued, sizeof queued, "%d", queued_min_messages);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", bootstrap, error, sizeof error) ||
        set(conf, "group.id", group, error, sizeof error) ||
        set(conf, "enable.auto.commit", "false", error, sizeof error) ||
        set(conf, "enable.auto.offset.store", "false", error, sizeof error) ||
        set(conf, "enable.partition.eof", "false", error, sizeof error) ||
        set(conf, "fetch.wait.max.ms", "100", error, sizeof error) ||
        set(conf, "queued.min.messages", queued, error, sizeof error)) {
        rd_kafka_conf_destroy(conf);
        fail(out, "consumer configuration", error);
        return;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (!rk) {
        fail(out, "rd_kafka_new", error);
        return;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(rk);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++) {
        rd_kafka_topic_partition_list_add(list, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    out->start_ns = raw_kafka_now_ns();
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err) {
        fail(out, "rd_kafka_assign", rd_kafka_err2str(err));
    } else {
        rd_kafka_message_t **batch = malloc(sizeof(rd_kafka_message_t *) * (size_t)batch_size);
        int64_t idle_since = raw_kafka_now_ns();
        while (out->records < expected) {
            ssize_t n = rd_kafka_consume_batch_queue(queue, 100, batch, (size_t)batch_size);
            int64_t now = raw_kafka_now_ns();
            if (n <= 0) {
                if ((now - idle_since) / 1000000 > timeout_ms) {
                    fail(out, "timed out", "no records for too long");
                    break;
                }
                continue;
            }
            idle_since = now;
            for (ssize_t i = 0; i < n; i++) {
                rd_kafka_message_t *m = batch[i];
                if (!m->err) {
                    if (out->records == 0) out->first_ns = now;
                    out->records++;
                    out->bytes += (int64_t)m->len;
                }
                rd_kafka_message_destroy(m);
            }
            out->end_ns = now;
        }
        free(batch);
    }
    rd_kafka_queue_destroy(queue);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

struct raw_kafka_producer {
    rd_kafka_t *rk;
    int64_t delivered;
    int64_t failed;
    char first_error[200];
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    raw_kafka_producer *producer = opaque;
    if (m->err) {
        if (producer->failed++ == 0) {
            snprintf(producer->first_error, sizeof producer->first_error, "%s", rd_kafka_err2str(m->err));
        }
    } else {
        producer->delivered++;
    }
}

raw_kafka_producer *raw_kafka_producer_new(const char *bootstrap, int idempotent, int linger_ms, int max_queued,
                                           char *error, size_t error_size) {
    char linger[32];
    char queued[32];
    snprintf(linger, sizeof linger, "%d", linger_ms);
    snprintf(queued, sizeof queued, "%d", max_queued);
    raw_kafka_producer *producer = calloc(1, sizeof *producer);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", bootstrap, error, error_size) ||
        set(conf, "enable.idempotence", idempotent ? "true" : "false", error, error_size) ||
        set(conf, "linger.ms", linger, error, error_size) ||
        set(conf, "queue.buffering.max.messages", queued, error, error_size) ||
        set(conf, "partitioner", "murmur2_random", error, error_size)) {
        rd_kafka_conf_destroy(conf);
        free(producer);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, producer);
    producer->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, error_size);
    if (!producer->rk) {
        free(producer);
        return NULL;
    }
    return producer;
}

void raw_kafka_producer_send(raw_kafka_producer *producer, const char *topic, const uint8_t *keys,
                             const int64_t *key_offsets, const uint8_t *values, const int64_t *value_offsets,
                             int64_t count, raw_kafka_result *out) {
    if (out->start_ns == 0) out->start_ns = raw_kafka_now_ns();
    rd_kafka_vu_t vus[4];
    for (int64_t i = 0; i < count; i++) {
        vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
        vus[0].u.cstr = topic;
        vus[1].vtype = RD_KAFKA_VTYPE_KEY;
        vus[1].u.mem.ptr = (void *)(keys + key_offsets[i]);
        vus[1].u.mem.size = (size_t)(key_offsets[i + 1] - key_offsets[i]);
        vus[2].vtype = RD_KAFKA_VTYPE_VALUE;
        vus[2].u.mem.ptr = (void *)(values + value_offsets[i]);
        vus[2].u.mem.size = (size_t)(value_offsets[i + 1] - value_offsets[i]);
        vus[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
        vus[3].u.i = RD_KAFKA_MSG_F_COPY;
        for (;;) {
            rd_kafka_error_t *error = rd_kafka_produceva(producer->rk, vus, 4);
            if (!error) break;
            if (rd_kafka_error_code(error) != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fail(out, "rd_kafka_produceva", rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
                return;
            }
            rd_kafka_error_destroy(error);
            rd_kafka_poll(producer->rk, 1);
        }
        if (out->first_ns == 0) out->first_ns = raw_kafka_now_ns();
        out->records++;
        out->bytes += value_offsets[i + 1] - value_offsets[i];
        // Serve delivery reports now and then, as a real loop would.
        if ((i & 1023) == 0) rd_kafka_poll(producer->rk, 0);
    }
}

void raw_kafka_producer_flush(raw_kafka_producer *producer, int timeout_ms, raw_kafka_result *out) {
    rd_kafka_resp_err_t err = rd_kafka_flush(producer->rk, timeout_ms);
    out->end_ns = raw_kafka_now_ns();
    if (err) fail(out, "rd_kafka_flush", rd_kafka_err2str(err));
    if (producer->failed > 0) fail(out, "delivery failed", producer->first_error);
    out->records = producer->delivered;
}

int raw_kafka_producer_warm_up(raw_kafka_producer *producer, const char *topic, char *error, size_t error_size) {
    rd_kafka_resp_err_t err = rd_kafka_producev(producer->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE("warm-up", 7),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (!err) err = rd_kafka_flush(producer->rk, 30000);
    if (!err && producer->failed > 0) err = RD_KAFKA_RESP_ERR__FAIL;
    if (err) {
        snprintf(error, error_size, "warm-up: %s %s", rd_kafka_err2str(err), producer->first_error);
        return -1;
    }
    producer->delivered = 0;
    return 0;
}

void raw_kafka_producer_destroy(raw_kafka_producer *producer) {
    if (!producer) return;
    rd_kafka_destroy(producer->rk);
    free(producer);
}

int raw_kafka_watermarks(const char *bootstrap, const char *topic, int partitions, int64_t *lows, int64_t *highs,
                         char *error, size_t error_size) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", bootstrap, error, error_size)) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, error_size);
    if (!rk) return -1;
    int result = 0;
    for (int p = 0; p < partitions; p++) {
        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, p, &lows[p], &highs[p], 10000);
        if (err) {
            snprintf(error, error_size, "partition %d: %s", p, rd_kafka_err2str(err));
            result = -1;
            break;
        }
    }
    rd_kafka_destroy(rk);
    return result;
}
