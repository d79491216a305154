#ifndef MEDIA_CFASTCGI_H
#define MEDIA_CFASTCGI_H

#include <fcgiapp.h>
#include <stddef.h>
#include <stdint.h>

/* The pool's scoreboard, as php-fpm keeps one: a memfd shared by the supervisor and its
 * workers. Each field has one writer. A slot's `sequence` is odd while its worker
 * rewrites the slot, so a reader can retry instead of seeing a torn request line. */
enum {
    MEDIA_SLOT_FREE = 0,
    MEDIA_SLOT_STARTING = 1,
    MEDIA_SLOT_IDLE = 2,
    MEDIA_SLOT_BUSY = 3,
    MEDIA_SLOT_STOPPING = 4,
};

typedef struct {
    uint32_t sequence;
    int32_t pid;
    int32_t state;
    int32_t reserved;
    int64_t started_ms;          /* when the worker started */
    int64_t request_started_ms;  /* when the current request started; 0 when idle */
    uint64_t requests;           /* requests served by this worker */
    uint64_t slow_requests;
    uint64_t all_busy_events;    /* requests that began while every worker was busy */
    char method[8];
    char uri[240];
    char request_id[64];
} media_scoreboard_slot;

typedef struct {
    uint32_t magic;
    uint32_t capacity;           /* slots allocated (twice the pool size: rolling restarts) */
    int64_t started_ms;
    int32_t pool_size;
    int32_t supervisor_pid;
    /* Totals of workers that have exited (live workers' own counters are in their slots). */
    uint64_t retired_requests;
    uint64_t retired_slow_requests;
    uint64_t retired_all_busy_events;
    uint64_t restarts;
    uint64_t time_limit_kills;
    media_scoreboard_slot slots[];
} media_scoreboard;

/// Installs the worker's signal handlers:
///  - SIGTERM, SIGQUIT, SIGINT: graceful stop (finish the current request, then leave).
///  - SIGUSR2: the supervisor's per-request time limit; answers 504 if nothing was written
///    yet, then exits at once.
/// The stop signals stay blocked except while the accept thread waits in accept: there,
/// with no SA_RESTART, they make accept fail with EINTR; anywhere else an EINTR would make
/// libfcgi fail a body read of the request being finished.
void media_fcgi_install_signal_handlers(void);

/// Blocks the stop signals in the calling thread (and threads it creates later). Called
/// first thing in a worker, before any other thread exists.
void media_fcgi_block_stop_signals(void);

/// Lets the stop signals in, for the calling thread (around accept only).
void media_fcgi_unblock_stop_signals(void);

/// Non-zero once a stop signal arrived.
int media_fcgi_stop_requested(void);

/// The request being served (NULL when idle) and its id, so the time-limit handler can
/// answer it.
void media_fcgi_set_current(FCGX_Request *request, const char *request_id);

/// Sends `head` then `body` as the request's stdout, as FastCGI records written straight
/// to the connection after whatever libfcgi has buffered: up to 16 records of 64 KB per
/// writev, where libfcgi's stream makes one write per 8 KB. From then on the time-limit
/// handler can no longer send its own headers.
/// Returns 0, or -1 when the connection failed (the client or nginx went away).
int media_fcgi_write_stdout(FCGX_Request *request, const void *head, size_t head_length,
                            const void *body, size_t body_length);

/// Ends the request (libfcgi's end records) and closes its connection. libfcgi closes by
/// shutting the socket down and then waiting, up to 2 s, for nginx to close its end while
/// it reads and drops whatever nginx still sends: input left unread would reset the
/// connection, which on TCP can lose the response. A request without a body has nothing
/// more to send once its params are read (nginx writes them and the empty stdin record in
/// one go), so when nothing waits unread that wait only holds the worker until nginx has
/// read the response, a sleep and a wake-up per request: such a connection is closed at
/// once. A request with a body, or with bytes still unread, is closed as libfcgi does.
void media_fcgi_finish(FCGX_Request *request);

/// A worker serves one request after another, some of them megabytes of JSON (a 100-owner
/// batch): blocks up to 4 MiB come from the heap, and freed memory stays there (up to
/// 8 MiB) for the next request instead of going back to the kernel and faulting in again
/// page by page (900 page faults per batch response). Two arenas at most: each of the
/// worker's threads (runner, libvips, URLSession) would otherwise keep freed memory in an
/// arena of its own (a soak's workers grew to 135 MB with 64 MiB kept per arena).
void media_fcgi_keep_freed_memory(void);

/// memfd_create(2) with MFD_CLOEXEC (Glibc's Swift module hides the _GNU_SOURCE API).
int media_fcgi_memfd(const char *name);

#endif
