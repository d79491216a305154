#define _GNU_SOURCE
#include "CFastCGI.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested = 0;
static volatile sig_atomic_t response_started = 0;
static FCGX_Request *volatile current_request = NULL;
static char current_request_id[80];
static size_t current_request_id_length = 0;

/* Deliberately no FCGX_ShutdownPending(): after it libfcgi fails every read, which would
 * cut the body of the request being finished. FCGI_FAIL_ACCEPT_ON_INTR is enough to make
 * an idle worker leave accept. */
static void on_stop(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void put_header(unsigned char *h, unsigned char type, int request_id, size_t length) {
    h[0] = 1; /* FCGI_VERSION_1 */
    h[1] = type;
    h[2] = (unsigned char)((request_id >> 8) & 0xff);
    h[3] = (unsigned char)(request_id & 0xff);
    h[4] = (unsigned char)((length >> 8) & 0xff);
    h[5] = (unsigned char)(length & 0xff);
    h[6] = 0;
    h[7] = 0;
}

static void write_all(int fd, const unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Async-signal-safe: only write(2) on prebuilt bytes, then _exit. */
static void on_time_limit(int sig) {
    (void)sig;
    FCGX_Request *request = current_request;
    if (request != NULL && !response_started && request->ipcFd >= 0) {
        static const char head[] =
            "Status: 504 Gateway Timeout\r\n"
            "Content-Type: application/json; charset=utf-8\r\n"
            "Cache-Control: no-store\r\n"
            "X-Request-Id: ";
        static const char body[] =
            "\r\n\r\n"
            "{\"error\":{\"code\":\"request_timeout\","
            "\"message\":\"The request took longer than the server's time limit.\"}}";
        size_t length = (sizeof(head) - 1) + current_request_id_length + (sizeof(body) - 1);
        unsigned char header[8];
        unsigned char end[16];
        put_header(header, 6 /* FCGI_STDOUT */, request->requestId, length);
        write_all(request->ipcFd, header, 8);
        write_all(request->ipcFd, (const unsigned char *)head, sizeof(head) - 1);
        write_all(request->ipcFd, (const unsigned char *)current_request_id, current_request_id_length);
        write_all(request->ipcFd, (const unsigned char *)body, sizeof(body) - 1);
        put_header(header, 6, request->requestId, 0);
        write_all(request->ipcFd, header, 8);
        put_header(end, 3 /* FCGI_END_REQUEST */, request->requestId, 8);
        memset(end + 8, 0, 8);
        write_all(request->ipcFd, end, 16);
    }
    _exit(70);
}

static void stop_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGQUIT);
    sigaddset(set, SIGINT);
}

void media_fcgi_block_stop_signals(void) {
    sigset_t set;
    stop_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void media_fcgi_unblock_stop_signals(void) {
    sigset_t set;
    stop_signals(&set);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

void media_fcgi_install_signal_handlers(void) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    sigemptyset(&action.sa_mask);
    /* No SA_RESTART: accept must fail with EINTR so libfcgi leaves it. */
    action.sa_flags = 0;
    action.sa_handler = on_stop;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGQUIT, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    action.sa_handler = on_time_limit;
    sigaction(SIGUSR2, &action, NULL);
    /* A client that went away must surface as a failed write, not kill the worker. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, SIGUSR2);
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
}

int media_fcgi_stop_requested(void) { return stop_requested; }

void media_fcgi_set_current(FCGX_Request *request, const char *request_id) {
    response_started = 0;
    current_request = NULL;
    current_request_id_length = 0;
    if (request_id != NULL) {
        size_t n = strlen(request_id);
        if (n >= sizeof(current_request_id)) n = sizeof(current_request_id) - 1;
        memcpy(current_request_id, request_id, n);
        current_request_id_length = n;
    }
    current_request = request;
}

/* Writes every byte of iov[0..count), resuming after short writes and EINTR; advances
 * the vectors it consumed. */
static int writev_all(int fd, struct iovec *iov, int count) {
    while (count > 0) {
        ssize_t w = writev(fd, iov, count);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        while (count > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            count--;
        }
        if (count > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

int media_fcgi_write_stdout(FCGX_Request *request, const void *head, size_t head_length,
                            const void *body, size_t body_length) {
    enum { RECORD = 65528, BATCH = 16 };
    if (FCGX_FFlush(request->out) < 0) return -1;
    response_started = 1;
    const unsigned char *segments[2] = {head, body};
    size_t remaining[2] = {head_length, body_length};
    unsigned char headers[BATCH][8];
    struct iovec iov[2 * BATCH];
    int segment = 0;
    while (segment < 2) {
        int count = 0;
        for (int record = 0; record < BATCH && segment < 2; record++) {
            while (segment < 2 && remaining[segment] == 0) segment++;
            if (segment == 2) break;
            size_t chunk = remaining[segment] < RECORD ? remaining[segment] : RECORD;
            put_header(headers[record], 6 /* FCGI_STDOUT */, request->requestId, chunk);
            iov[count++] = (struct iovec){headers[record], 8};
            iov[count++] = (struct iovec){(void *)segments[segment], chunk};
            segments[segment] += chunk;
            remaining[segment] -= chunk;
        }
        if (count > 0 && writev_all(request->ipcFd, iov, count) < 0) return -1;
    }
    return 0;
}

void media_fcgi_finish(FCGX_Request *request) {
    const char *length = request->envp != NULL ? FCGX_GetParam("CONTENT_LENGTH", request->envp) : NULL;
    int bodyless = length == NULL || length[0] == '\0' || strcmp(length, "0") == 0;
    char next;
    if (bodyless && request->ipcFd >= 0 &&
        recv(request->ipcFd, &next, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN) {
        FCGX_Detach(request); /* libfcgi then closes without shutdown() and the wait */
    }
    FCGX_Finish_r(request);
}

void media_fcgi_keep_freed_memory(void) {
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 8 << 20);
    mallopt(M_ARENA_MAX, 2);
}

int media_fcgi_memfd(const char *name) { return memfd_create(name, MFD_CLOEXEC); }
