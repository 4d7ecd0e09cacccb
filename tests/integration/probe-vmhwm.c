/* SPDX-License-Identifier: MIT */
/* Runs a program and reports its own peak resident set size.
 *
 *   probe-vmhwm LIMIT_KIB PROGRAM [ARGS...]
 *
 * Reads VmHWM from /proc/<pid>/status at the moment the program exits (the
 * child is stopped there with PTRACE_O_TRACEEXIT, its memory still mapped).
 * wait4()'s ru_maxrss is printed too but not used for the verdict: after a
 * fork+exec it can report the forking parent's peak instead of the
 * program's. Prints "VmHWM=<kB> kB ru_maxrss=<kB> kB exit=<code>"; exits 0
 * when VmHWM <= LIMIT_KIB, 1 when above, 2 when it could not measure. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static long read_vmhwm(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f) return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

int main(int argc, char **argv)
{
    int status;
    long limit, hwm = -1;
    struct rusage ru;

    if (argc < 3) {
        fprintf(stderr, "usage: probe-vmhwm LIMIT_KIB PROGRAM [ARGS...]\n");
        return 2;
    }
    limit = strtol(argv[1], NULL, 10);

    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) _exit(126);
        execv(argv[2], argv + 2);
        _exit(127);
    }

    /* First stop: the SIGTRAP of the exec. */
    if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
        fprintf(stderr, "probe-vmhwm: the program did not start under ptrace\n");
        return 2;
    }
    if (ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)PTRACE_O_TRACEEXIT) < 0) {
        perror("probe-vmhwm: PTRACE_SETOPTIONS");
        kill(pid, SIGKILL);
        return 2;
    }
    int sig = 0;
    for (;;) {
        if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) < 0 && errno != ESRCH) return 2;
        if (wait4(pid, &status, 0, &ru) != pid) return 2;
        if (WIFEXITED(status) || WIFSIGNALED(status)) break;
        sig = 0;
        if (WIFSTOPPED(status)) {
            if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8)))
                hwm = read_vmhwm(pid);
            else if (WSTOPSIG(status) != SIGTRAP)
                sig = WSTOPSIG(status); /* deliver the program's own signals */
        }
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("VmHWM=%ld kB ru_maxrss=%ld kB exit=%d\n", hwm, ru.ru_maxrss, code);
    if (hwm < 0) return 2;
    return hwm <= limit ? 0 : 1;
}
