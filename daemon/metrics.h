/* SPDX-License-Identifier: MIT */
#pragma once

/* A small metrics registry rendered in the Prometheus text exposition format
 * 0.0.4: counters, gauges and histograms, each family with a fixed list of
 * label names and a cap on the number of label combinations (series), so that
 * no input can grow it without bound.
 *
 * Memory is allocated when a family is registered and the first time a label
 * combination is seen; updating an existing series never allocates. Callers
 * on a hot path look a series up once (metrics_series()) and keep the
 * pointer; it lives as long as the registry.
 *
 * Single-threaded, like the rest of the daemon. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct Metrics Metrics;
typedef struct MetricFamily MetricFamily;
typedef struct MetricSeries MetricSeries;

typedef enum MetricType {
    METRIC_COUNTER,
    METRIC_GAUGE,
    METRIC_HISTOGRAM,
} MetricType;

/* Bounds (names are ASCII identifiers; values are copied). */
#define METRICS_NAME_MAX 128
#define METRICS_LABELS_MAX 8
#define METRICS_LABEL_VALUE_MAX 256
#define METRICS_BUCKETS_MAX 32
#define METRICS_SERIES_MAX 1024

/* The MIME type of metrics_render()'s output. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A NULL-terminated list of label values (or names), for the calls below. */
#define METRIC_LABELS(...) ((const char *const[]){__VA_ARGS__, NULL})

int metrics_new(Metrics **ret);
Metrics *metrics_free(Metrics *m);
static inline void metrics_freep(Metrics **m)
{
    metrics_free(*m);
}

/* Registers a family. name: [a-zA-Z_:][a-zA-Z0-9_:]*, unique in the
 * registry; help: any text (escaped on output); label_names: NULL or a
 * NULL-terminated list of [a-zA-Z_][a-zA-Z0-9_]* (not "__*", not "le" for a
 * histogram), at most METRICS_LABELS_MAX; max_series: cap on label
 * combinations (0: 1 without labels, 64 with); buckets: the histogram's
 * upper bounds, finite and strictly increasing (+Inf is implicit), at most
 * METRICS_BUCKETS_MAX, NULL/0 for other types.
 * A family without labels has its one series from the start (rendered as 0);
 * a family with labels shows only the series that were used.
 * Returns 0, -EINVAL for a bad argument, -EEXIST for a duplicate name,
 * -ENOMEM. *ret (may be NULL) is untouched on failure. */
int metrics_family_add(Metrics *m, MetricType type, const char *name, const char *help,
                       const char *const *label_names, size_t max_series, const double *buckets,
                       size_t n_buckets, MetricFamily **ret);

/* Finds, or creates, the series of f with these label values (NULL-terminated,
 * as many as the family has label names; NULL for none). Values are any
 * bytes up to METRICS_LABEL_VALUE_MAX; invalid UTF-8 is stored as U+FFFD.
 * Returns 0, -EINVAL (wrong count, too long), -E2BIG when the family's cap is
 * reached (the update is counted in metrics_dropped()), -ENOMEM.
 * *ret is untouched on failure. */
int metrics_series(MetricFamily *f, const char *const *label_values, MetricSeries **ret);

/* Updates. NULL series are ignored, so that a failed lookup needs no check:
 *     metrics_series(f, METRIC_LABELS("get", "200"), &s); metric_inc(s);
 * (s must be initialised to NULL). A counter only grows: negative, NaN
 * increments are ignored. metric_set() applies to gauges, metric_observe()
 * to histograms, metric_add() to counters and gauges. */
void metric_inc(MetricSeries *s);
void metric_add(MetricSeries *s, double v);
void metric_set(MetricSeries *s, double v);
void metric_observe(MetricSeries *s, double v);
double metric_value(const MetricSeries *s); /* counter/gauge value, histogram count; NaN for NULL */

/* Makes a counter or gauge series computed at render time by fn(userdata)
 * (e.g. "seconds since"). When fn returns NaN the sample is left out of the
 * output. fn NULL reverts to the stored value. */
void metric_set_func(MetricSeries *s, double (*fn)(void *userdata), void *userdata);

/* Shortcuts: lookup + update, for paths that are not hot. Return as
 * metrics_series(). */
int metrics_inc(MetricFamily *f, const char *const *label_values);
int metrics_set(MetricFamily *f, const char *const *label_values, double v);
int metrics_observe(MetricFamily *f, const char *const *label_values, double v);

/* The process collector of the Prometheus client libraries, under their names:
 * process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_open_fds, process_max_fds and process_start_time_seconds, read from /proc/self
 * (Linux) each time the registry is rendered; the start time, which never changes, once here.
 * A value that cannot be read leaves its sample out. Returns 0 or metrics_family_add()'s
 * errors. */
int metrics_add_process(Metrics *m);

/* Updates refused because a family's series cap was reached. */
uint64_t metrics_dropped(const Metrics *m);

/* Renders the registry, families in registration order, series in creation
 * order, into buf[size] with a terminating NUL. Returns the length (without
 * the NUL), or -ENOBUFS when it does not fit (buf content is then
 * unspecified). */
ssize_t metrics_render(const Metrics *m, char *buf, size_t size);

/* Formats a sample value as the text format wants it: integers without a
 * fraction, "+Inf", "-Inf", "NaN", otherwise the shortest text that reads
 * back as the same double. buf at least 32 bytes. Returns buf. */
const char *metrics_format_value(double v, char *buf, size_t size);
