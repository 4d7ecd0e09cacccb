/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "metrics.h"
#include "util.h"

struct MetricSeries {
    MetricFamily *family;
    char **label_values; /* family->n_labels strings */
    double value;
    double (*fn)(void *userdata);
    void *fn_userdata;
    uint64_t *bucket_counts; /* histogram: per bucket, not cumulative; +Inf is count */
    uint64_t count;
    double sum;
};

struct MetricFamily {
    Metrics *registry;
    MetricType type;
    char *name;
    char *help;
    char **label_names;
    size_t n_labels;
    double *buckets;
    size_t n_buckets;
    MetricSeries **series;
    size_t n_series;
    size_t max_series;
};

struct Metrics {
    MetricFamily **families;
    size_t n_families;
    uint64_t dropped;
};

static bool name_valid(const char *s, bool colon)
{
    size_t n = 0;

    if (!s || !*s) return false;
    for (const char *p = s; *p; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (colon && c == ':') || (p != s && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return n <= METRICS_NAME_MAX;
}

static void series_free(MetricSeries *s, size_t n_labels)
{
    if (!s) return;
    if (s->label_values)
        for (size_t i = 0; i < n_labels; i++)
            free(s->label_values[i]);
    free(s->label_values);
    free(s->bucket_counts);
    free(s);
}

static void family_free(MetricFamily *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->n_series; i++)
        series_free(f->series[i], f->n_labels);
    free(f->series);
    if (f->label_names)
        for (size_t i = 0; i < f->n_labels; i++)
            free(f->label_names[i]);
    free(f->label_names);
    free(f->buckets);
    free(f->name);
    free(f->help);
    free(f);
}

int metrics_new(Metrics **ret)
{
    Metrics *m = calloc(1, sizeof *m);
    if (!m) return -ENOMEM;
    *ret = m;
    return 0;
}

Metrics *metrics_free(Metrics *m)
{
    if (!m) return NULL;
    for (size_t i = 0; i < m->n_families; i++)
        family_free(m->families[i]);
    free(m->families);
    free(m);
    return NULL;
}

uint64_t metrics_dropped(const Metrics *m)
{
    return m ? m->dropped : 0;
}

/* Copies a label value, replacing each invalid UTF-8 sequence by U+FFFD, so
 * that the output is always valid UTF-8 (the text format requires it). */
static char *utf8_sanitize(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(len * 3 + 1), *o = out;
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    if (!out) return NULL;
    while (p < end) {
        unsigned c = *p;
        size_t n;
        uint32_t cp;

        if (c < 0x80) {
            *o++ = (char)*p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            n = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 4, cp = c & 0x07;
        else
            goto bad;
        if ((size_t)(end - p) < n) goto bad;
        for (size_t i = 1; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80) goto bad;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            goto bad;
        memcpy(o, p, n);
        o += n;
        p += n;
        continue;
    bad:
        memcpy(o, "\xef\xbf\xbd", 3);
        o += 3;
        p++;
    }
    *o = 0;
    return out;
}

static void strv_free(char **v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int series_create(MetricFamily *f, const char *const *values, MetricSeries **ret)
{
    MetricSeries *s;

    s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->family = f;
    if (f->n_labels > 0) {
        s->label_values = calloc(f->n_labels, sizeof(char *));
        if (!s->label_values) goto oom;
        for (size_t i = 0; i < f->n_labels; i++) {
            s->label_values[i] = utf8_sanitize(values[i]);
            if (!s->label_values[i]) goto oom;
        }
    }
    if (f->type == METRIC_HISTOGRAM && f->n_buckets > 0) {
        s->bucket_counts = calloc(f->n_buckets, sizeof(uint64_t));
        if (!s->bucket_counts) goto oom;
    }
    /* The series array is sized once, at the cap, when the family is made. */
    f->series[f->n_series++] = s;
    *ret = s;
    return 0;
oom:
    series_free(s, f->n_labels);
    return -ENOMEM;
}

int metrics_family_add(Metrics *m, MetricType type, const char *name, const char *help,
                       const char *const *label_names, size_t max_series, const double *buckets,
                       size_t n_buckets, MetricFamily **ret)
{
    MetricFamily *f = NULL, **grown;
    size_t n_labels = 0;
    int r;

    if (!m || !name_valid(name, true) || (unsigned)type > METRIC_HISTOGRAM) return -EINVAL;
    if (label_names)
        for (; label_names[n_labels]; n_labels++) {
            const char *l = label_names[n_labels];
            if (n_labels >= METRICS_LABELS_MAX || !name_valid(l, false) ||
                strncmp(l, "__", 2) == 0 || (type == METRIC_HISTOGRAM && strcmp(l, "le") == 0))
                return -EINVAL;
            for (size_t j = 0; j < n_labels; j++)
                if (strcmp(label_names[j], l) == 0) return -EINVAL;
        }
    if (type == METRIC_HISTOGRAM) {
        if (n_buckets > METRICS_BUCKETS_MAX || (n_buckets > 0 && !buckets)) return -EINVAL;
        for (size_t i = 0; i < n_buckets; i++)
            if (!isfinite(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1]))) return -EINVAL;
    } else if (n_buckets > 0)
        return -EINVAL;
    if (max_series == 0) max_series = n_labels == 0 ? 1 : 64;
    if (max_series > METRICS_SERIES_MAX || (n_labels == 0 && max_series != 1)) return -EINVAL;
    for (size_t i = 0; i < m->n_families; i++)
        if (strcmp(m->families[i]->name, name) == 0) return -EEXIST;

    f = calloc(1, sizeof *f);
    if (!f) return -ENOMEM;
    f->registry = m;
    f->type = type;
    f->max_series = max_series;
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    f->series = calloc(max_series, sizeof(MetricSeries *));
    if (!f->name || !f->help || !f->series) goto oom;
    if (n_labels > 0) {
        f->label_names = calloc(n_labels, sizeof(char *));
        if (!f->label_names) goto oom;
        for (size_t i = 0; i < n_labels; i++) {
            f->label_names[i] = strdup(label_names[i]);
            if (!f->label_names[i]) {
                strv_free(f->label_names, i);
                f->label_names = NULL;
                goto oom;
            }
        }
        f->n_labels = n_labels;
    }
    if (n_buckets > 0) {
        f->buckets = malloc(n_buckets * sizeof(double));
        if (!f->buckets) goto oom;
        memcpy(f->buckets, buckets, n_buckets * sizeof(double));
        f->n_buckets = n_buckets;
    }
    if (n_labels == 0) {
        MetricSeries *s;
        r = series_create(f, NULL, &s);
        if (r < 0) goto fail;
    }
    grown = realloc(m->families, (m->n_families + 1) * sizeof(MetricFamily *));
    if (!grown) goto oom;
    m->families = grown;
    m->families[m->n_families++] = f;
    if (ret) *ret = f;
    return 0;
oom:
    r = -ENOMEM;
fail:
    family_free(f);
    return r;
}

int metrics_series(MetricFamily *f, const char *const *label_values, MetricSeries **ret)
{
    size_t n = 0;
    MetricSeries *s;
    int r;

    if (!f) return -EINVAL;
    if (label_values)
        for (; label_values[n]; n++)
            if (n >= f->n_labels || strlen(label_values[n]) > METRICS_LABEL_VALUE_MAX)
                return -EINVAL;
    if (n != f->n_labels) return -EINVAL;

    /* Linear: families are small (capped), and this path must not allocate. */
    for (size_t i = 0; i < f->n_series; i++) {
        bool match = true;
        s = f->series[i];
        for (size_t j = 0; j < n && match; j++)
            match = strcmp(s->label_values[j], label_values[j]) == 0;
        if (match) {
            if (ret) *ret = s;
            return 0;
        }
    }
    if (f->n_series >= f->max_series) {
        f->registry->dropped++;
        return -E2BIG;
    }
    r = series_create(f, label_values, &s);
    if (r < 0) return r;
    if (ret) *ret = s;
    return 0;
}

void metric_inc(MetricSeries *s)
{
    metric_add(s, 1);
}

void metric_add(MetricSeries *s, double v)
{
    if (!s || isnan(v)) return;
    if (s->family->type == METRIC_COUNTER) {
        if (v < 0) return;
        s->value += v;
    } else if (s->family->type == METRIC_GAUGE)
        s->value += v;
}

void metric_set(MetricSeries *s, double v)
{
    if (s && s->family->type == METRIC_GAUGE) s->value = v;
}

void metric_observe(MetricSeries *s, double v)
{
    MetricFamily *f;

    if (!s || isnan(v)) return;
    f = s->family;
    if (f->type != METRIC_HISTOGRAM) return;
    /* First bucket whose upper bound holds v (le = "less or equal"). */
    for (size_t i = 0; i < f->n_buckets; i++)
        if (v <= f->buckets[i]) {
            s->bucket_counts[i]++;
            break;
        }
    s->count++;
    s->sum += v;
}

double metric_value(const MetricSeries *s)
{
    if (!s) return NAN;
    if (s->family->type == METRIC_HISTOGRAM) return (double)s->count;
    return s->fn ? s->fn(s->fn_userdata) : s->value;
}

void metric_set_func(MetricSeries *s, double (*fn)(void *userdata), void *userdata)
{
    if (!s || s->family->type == METRIC_HISTOGRAM) return;
    s->fn = fn;
    s->fn_userdata = userdata;
}

int metrics_inc(MetricFamily *f, const char *const *label_values)
{
    MetricSeries *s = NULL;
    int r = metrics_series(f, label_values, &s);
    metric_inc(s);
    return r;
}

int metrics_set(MetricFamily *f, const char *const *label_values, double v)
{
    MetricSeries *s = NULL;
    int r = metrics_series(f, label_values, &s);
    metric_set(s, v);
    return r;
}

int metrics_observe(MetricFamily *f, const char *const *label_values, double v)
{
    MetricSeries *s = NULL;
    int r = metrics_series(f, label_values, &s);
    metric_observe(s, v);
    return r;
}

/* ---- rendering ---- */

typedef struct Writer {
    char *buf;
    size_t size, len;
    bool overflow;
} Writer;

static void w_put(Writer *w, const char *s, size_t n)
{
    if (w->overflow) return;
    if (w->size - w->len <= n) { /* keep room for the NUL */
        w->overflow = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = 0;
}

static void w_str(Writer *w, const char *s)
{
    w_put(w, s, strlen(s));
}

/* HELP text escapes \ and newline; label values also escape ". */
static void w_escaped(Writer *w, const char *s, bool quote)
{
    const char *run = s;

    for (; *s; s++) {
        const char *esc = NULL;
        if (*s == '\\')
            esc = "\\\\";
        else if (*s == '\n')
            esc = "\\n";
        else if (quote && *s == '"')
            esc = "\\\"";
        if (esc) {
            w_put(w, run, (size_t)(s - run));
            w_str(w, esc);
            run = s + 1;
        }
    }
    w_put(w, run, (size_t)(s - run));
}

const char *metrics_format_value(double v, char *buf, size_t size)
{
    if (isnan(v))
        snprintf(buf, size, "NaN");
    else if (isinf(v))
        snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, size, "%.0f", v);
    else {
        /* Shortest of the usual precisions that reads back exactly. */
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, size, "%.*g", prec, v);
            if (strtod(buf, NULL) == v) break;
        }
    }
    return buf;
}

static void w_value(Writer *w, double v)
{
    char b[64];
    w_str(w, metrics_format_value(v, b, sizeof b));
}

static void w_u64(Writer *w, uint64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%" PRIu64, v);
    w_str(w, b);
}

/* name{a="x",b="y"[,le="..."]} */
static void w_series_name(Writer *w, const MetricFamily *f, const MetricSeries *s,
                          const char *suffix, const char *le)
{
    bool any = false;

    w_str(w, f->name);
    w_str(w, suffix);
    if (f->n_labels == 0 && !le) return;
    w_str(w, "{");
    for (size_t i = 0; i < f->n_labels; i++) {
        if (any) w_str(w, ",");
        w_str(w, f->label_names[i]);
        w_str(w, "=\"");
        w_escaped(w, s->label_values[i], true);
        w_str(w, "\"");
        any = true;
    }
    if (le) {
        if (any) w_str(w, ",");
        w_str(w, "le=\"");
        w_str(w, le);
        w_str(w, "\"");
    }
    w_str(w, "}");
}

static void w_family(Writer *w, const MetricFamily *f)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    char le[64];

    if (f->n_series == 0) return; /* like the Go client: a vector without children is not shown */
    w_str(w, "# HELP ");
    w_str(w, f->name);
    w_str(w, " ");
    w_escaped(w, f->help, false);
    w_str(w, "\n# TYPE ");
    w_str(w, f->name);
    w_str(w, " ");
    w_str(w, type_names[f->type]);
    w_str(w, "\n");

    for (size_t i = 0; i < f->n_series; i++) {
        const MetricSeries *s = f->series[i];

        if (f->type != METRIC_HISTOGRAM) {
            double v = metric_value(s);
            if (s->fn && isnan(v)) continue;
            w_series_name(w, f, s, "", NULL);
            w_str(w, " ");
            w_value(w, v);
            w_str(w, "\n");
            continue;
        }
        uint64_t cumulative = 0;
        for (size_t b = 0; b < f->n_buckets; b++) {
            cumulative += s->bucket_counts[b];
            w_series_name(w, f, s, "_bucket", metrics_format_value(f->buckets[b], le, sizeof le));
            w_str(w, " ");
            w_u64(w, cumulative);
            w_str(w, "\n");
        }
        w_series_name(w, f, s, "_bucket", "+Inf");
        w_str(w, " ");
        w_u64(w, s->count);
        w_str(w, "\n");
        w_series_name(w, f, s, "_sum", NULL);
        w_str(w, " ");
        w_value(w, s->sum);
        w_str(w, "\n");
        w_series_name(w, f, s, "_count", NULL);
        w_str(w, " ");
        w_u64(w, s->count);
        w_str(w, "\n");
    }
}

ssize_t metrics_render(const Metrics *m, char *buf, size_t size)
{
    Writer w = {.buf = buf, .size = size};

    if (!m || !buf || size == 0) return -EINVAL;
    buf[0] = 0;
    for (size_t i = 0; i < m->n_families; i++)
        w_family(&w, m->families[i]);
    if (w.overflow) return -ENOBUFS;
    return (ssize_t)w.len;
}

/* ---- the process collector ---- */

typedef enum ProcessValue {
    PROCESS_CPU_SECONDS,
    PROCESS_RESIDENT_BYTES,
    PROCESS_VIRTUAL_BYTES,
    PROCESS_OPEN_FDS,
    PROCESS_MAX_FDS,
} ProcessValue;

static const ProcessValue process_values[] = {
    PROCESS_CPU_SECONDS, PROCESS_RESIDENT_BYTES, PROCESS_VIRTUAL_BYTES,
    PROCESS_OPEN_FDS,    PROCESS_MAX_FDS,
};

/* The fields of /proc/self/stat after the command name (which may hold spaces and parentheses:
 * the fields start after its last ')'), from field 3 (state) on: out[i] is field i + 3, parsed
 * as an unsigned number (0 for the state letter). Returns the number of fields read, or -1. */
static int proc_self_stat(unsigned long long *out, int n)
{
    char buf[1024];
    ssize_t len;
    int fd, i = 0;
    char *p;

    fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0) return -1;
    buf[len] = 0;
    p = strrchr(buf, ')');
    if (!p) return -1;
    p++;
    while (i < n && *p) {
        char *end;
        while (*p == ' ')
            p++;
        if (!*p || *p == '\n') break;
        out[i++] = strtoull(p, &end, 10);
        p = end;
        while (*p && *p != ' ')
            p++; /* the state letter, or anything strtoull left */
    }
    return i;
}

/* Open descriptors, the one reading /proc/self/fd left out. */
static double open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    double n = 0;
    int self;

    if (!d) return NAN;
    self = dirfd(d);
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' && atoi(de->d_name) != self) n++;
    closedir(d);
    return n;
}

static double process_value(void *userdata)
{
    ProcessValue which = *(const ProcessValue *)userdata;
    unsigned long long f[22]; /* fields 3 to 24: utime 14, stime 15, vsize 23, rss 24 */
    struct rlimit rl;
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);

    switch (which) {
    case PROCESS_OPEN_FDS:
        return open_fds();
    case PROCESS_MAX_FDS:
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return NAN;
        return rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur;
    default:
        break;
    }
    if (proc_self_stat(f, 22) < 22 || tick <= 0 || page <= 0) return NAN;
    switch (which) {
    case PROCESS_CPU_SECONDS:
        return (double)(f[14 - 3] + f[15 - 3]) / (double)tick;
    case PROCESS_RESIDENT_BYTES:
        return (double)f[24 - 3] * (double)page;
    case PROCESS_VIRTUAL_BYTES:
        return (double)f[23 - 3];
    default:
        return NAN;
    }
}

/* Seconds since the epoch at which this process started: the boot time (btime of /proc/stat)
 * plus the start time of /proc/self/stat (field 22, clock ticks after boot), as the client
 * libraries compute it. NaN when unreadable. */
static double process_start_time(void)
{
    unsigned long long f[20], btime = 0;
    long tick = sysconf(_SC_CLK_TCK);
    char *line = NULL;
    size_t cap = 0;
    bool found = false;
    FILE *fp;

    if (proc_self_stat(f, 20) < 20 || tick <= 0) return NAN;
    fp = fopen("/proc/stat", "re");
    if (!fp) return NAN;
    while (getline(&line, &cap, fp) > 0)
        if (strncmp(line, "btime ", 6) == 0) {
            btime = strtoull(line + 6, NULL, 10);
            found = true;
            break;
        }
    free(line);
    fclose(fp);
    if (!found) return NAN;
    return (double)btime + (double)f[22 - 3] / (double)tick;
}

static double not_available(void *userdata)
{
    (void)userdata;
    return NAN;
}

int metrics_add_process(Metrics *m)
{
    static const struct {
        MetricType type;
        const char *name, *help;
    } fams[] = {
        {METRIC_COUNTER, "process_cpu_seconds_total",
         "Total user and system CPU time spent in seconds."},
        {METRIC_GAUGE, "process_resident_memory_bytes", "Resident memory size in bytes."},
        {METRIC_GAUGE, "process_virtual_memory_bytes", "Virtual memory size in bytes."},
        {METRIC_GAUGE, "process_open_fds", "Number of open file descriptors."},
        {METRIC_GAUGE, "process_max_fds", "Maximum number of open file descriptors."},
    };
    MetricFamily *f;
    MetricSeries *s;
    double start;
    int r;

    for (size_t i = 0; i < ELEMENTSOF(fams); i++) {
        r = metrics_family_add(m, fams[i].type, fams[i].name, fams[i].help, NULL, 0, NULL, 0, &f);
        if (r < 0) return r;
        r = metrics_series(f, NULL, &s);
        if (r < 0) return r;
        metric_set_func(s, process_value, (void *)&process_values[i]);
    }
    r = metrics_family_add(m, METRIC_GAUGE, "process_start_time_seconds",
                           "Start time of the process since unix epoch in seconds.", NULL, 0, NULL,
                           0, &f);
    if (r < 0) return r;
    r = metrics_series(f, NULL, &s);
    if (r < 0) return r;
    start = process_start_time();
    if (isnan(start))
        metric_set_func(s, not_available, NULL);
    else
        metric_set(s, start);
    return 0;
}
