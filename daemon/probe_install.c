/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "probe_install.h"
#include "util.h"

#define PROBE_NAME "leader-probe"
#define RUN_NAME "leader-run"
#define PROBE_MAX_SIZE (16 * 1024 * 1024)

int probe_install_from(const char *src, const char *dest)
{
    _cleanup_close_ int in = -1, out = -1;
    char tmp[PATH_MAX];
    struct stat st;
    int r;

    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return log_error_errno(errno, "install-probe: cannot open %s: %m", src);
    if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PROBE_MAX_SIZE)
        return log_error_errno(EINVAL, "install-probe: %s is not a regular file of sane size", src);

    r = mkdir_parents(dest, 0755);
    if (r < 0)
        return log_error_errno(r, "install-probe: cannot create the directory of %s: %m", dest);
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", dest) >= (int)sizeof tmp)
        return log_error_errno(ENAMETOOLONG, "install-probe: path too long: %s", dest);
    out = mkostemp(tmp, O_CLOEXEC);
    if (out < 0)
        return log_error_errno(errno, "install-probe: cannot create a file beside %s: %m", dest);

    for (;;) {
        char buf[65536];
        ssize_t k = read(in, buf, sizeof buf);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            r = -errno;
            goto fail;
        }
        if (k == 0) break;
        for (ssize_t off = 0; off < k;) {
            ssize_t w = write(out, buf + off, (size_t)(k - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                r = -errno;
                goto fail;
            }
            off += w;
        }
    }
    if (fchmod(out, 0755) < 0 || fsync(out) < 0) {
        r = -errno;
        goto fail;
    }
    if (rename(tmp, dest) < 0) {
        r = -errno;
        goto fail;
    }
    log_info("installed %s as %s", src, dest);
    return 0;

fail:
    (void)unlink(tmp);
    return log_error_errno(r, "install-probe: writing %s failed: %m", dest);
}

/* The file name beside the daemon in an install, else in ../probe relative to daemon/ in a
 * build tree, into src[PATH_MAX]. */
static int companion_source(const char *self_dir, const char *name, char *src)
{
    char alt[PATH_MAX];

    if (snprintf(src, PATH_MAX, "%s/%s", self_dir, name) >= PATH_MAX)
        return log_error_errno(ENAMETOOLONG, "install-probe: path too long: %s", self_dir);
    if (access(src, R_OK) < 0 &&
        snprintf(alt, sizeof alt, "%s/../probe/%s", self_dir, name) < (int)sizeof alt &&
        access(alt, R_OK) == 0)
        memcpy(src, alt, PATH_MAX);
    return 0;
}

int probe_install(const char *dest)
{
    char self[PATH_MAX], src[PATH_MAX], run_dest[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    char *slash;
    int r;

    if (n < 0) return log_error_errno(errno, "install-probe: cannot find this binary: %m");
    self[n] = '\0';
    slash = strrchr(self, '/');
    if (!slash) return log_error_errno(EINVAL, "install-probe: odd binary path %s", self);
    *slash = '\0';
    r = companion_source(self, PROBE_NAME, src);
    if (r < 0) return r;
    r = probe_install_from(src, dest);
    if (r < 0) return r;

    /* leader-run (probe/leader-run.c) goes into the same directory, for applications that
     * run under it. A daemon shipped without it installs the probe alone. */
    r = companion_source(self, RUN_NAME, src);
    if (r < 0) return r;
    if (access(src, R_OK) < 0) {
        log_warn("install-probe: no %s beside this binary: installed the probe only", RUN_NAME);
        return 0;
    }
    slash = strrchr(dest, '/');
    if (snprintf(run_dest, sizeof run_dest, "%.*s%s", slash ? (int)(slash - dest + 1) : 0, dest,
                 RUN_NAME) >= (int)sizeof run_dest)
        return log_error_errno(ENAMETOOLONG, "install-probe: path too long: %s", dest);
    if (strcmp(run_dest, dest) == 0)
        return log_error_errno(EINVAL, "install-probe: %s would replace %s", RUN_NAME, dest);
    return probe_install_from(src, run_dest);
}
