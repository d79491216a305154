#ifndef MEDIA_CHILD_PROCESS_H
#define MEDIA_CHILD_PROCESS_H

#include <sys/types.h>

/// Starts `path` (an absolute path; no PATH search) with `argv` (NULL-terminated) and
/// `envp`, stdin from /dev/null, stdout and stderr on the given descriptors, every other
/// descriptor closed. Why C: between fork and exec only async-signal-safe calls are
/// allowed, and the child must be set up there:
///  - PR_SET_PDEATHSIG SIGKILL: if the worker dies (the pool's time limit kills it), the
///    tool dies with it instead of running on as an orphan;
///  - the signal mask and dispositions reset: a worker blocks its stop signals and
///    ignores SIGPIPE, and exec would pass both on.
/// Returns the child's pid, or -1 with errno set (the child's exec failure is reported
/// through a close-on-exec pipe, so a missing binary fails here, not as exit 127).
pid_t media_spawn(const char *path, char *const argv[], char *const envp[], int stdout_fd, int stderr_fd);

/// pipe2(2) with O_CLOEXEC (Glibc's Swift module hides the _GNU_SOURCE API).
int media_pipe_cloexec(int fds[2]);

/* waitpid(2) status decoding: Swift does not import the W* macros. */
#include <sys/wait.h>
static inline int media_wifexited(int status) { return WIFEXITED(status); }
static inline int media_wexitstatus(int status) { return WEXITSTATUS(status); }
static inline int media_wtermsig(int status) { return WTERMSIG(status); }

#endif
