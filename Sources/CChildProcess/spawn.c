#define _GNU_SOURCE
#include "CChildProcess.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long open_max = 65536;

static void close_from(int first) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0) return;
#endif
    /* Kernels before 5.9. The limit was read before fork (sysconf is not async-signal-safe);
     * an unlimited one is clamped. */
    for (int fd = first; fd < open_max; fd++) close(fd);
}

int media_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

pid_t media_spawn(const char *path, char *const argv[], char *const envp[], int stdout_fd, int stderr_fd) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -1;
    long limit = sysconf(_SC_OPEN_MAX);
    open_max = limit > 0 && limit < 65536 ? limit : 65536;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(report[0]);
        close(report[1]);
        errno = saved;
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);  /* the parent died before prctl */
        /* Default dispositions first, then unblock: a worker's handler must never run here. */
        for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int null = open("/dev/null", O_RDONLY);
        /* Move the three into 0..2 without one dup2 clobbering another's source. */
        int out = fcntl(stdout_fd, F_DUPFD, 10), err = fcntl(stderr_fd, F_DUPFD, 10), rep = fcntl(report[1], F_DUPFD_CLOEXEC, 10);
        if (null < 0 || out < 0 || err < 0 || rep < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
            int code = errno;
            if (rep >= 0) (void)!write(rep, &code, sizeof code);
            _exit(127);
        }
        /* Keep the report pipe (close-on-exec) past close_from: move it to 3. */
        if (dup3(rep, 3, O_CLOEXEC) < 0) _exit(127);
        close_from(4);
        execve(path, argv, envp);
        int code = errno;
        (void)!write(3, &code, sizeof code);
        _exit(127);
    }
    close(report[1]);
    int code = 0;
    ssize_t got;
    do {
        got = read(report[0], &code, sizeof code);
    } while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == (ssize_t)sizeof code) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        errno = code;
        return -1;
    }
    return pid;
}
