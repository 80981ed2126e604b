/*
 * dedupe_server.c - an HTTP front for a slow backend, where concurrent
 * requests for one key share one backend query.
 *
 * GET /<key> asks the simulated backend for the value of the path
 * through gs_singleflight_do, keyed by that path: the first request for
 * a key queries the backend, and the requests that arrive while the
 * query runs wait for it and send the same body. The body names the key
 * and the number of the query that made it, so two flights for one key
 * differ. GET /_stats answers "requests=N queries=M" outside any flight,
 * so a client can count what the backend was asked.
 *
 * Structure. main blocks SIGINT and SIGTERM before any thread exists,
 * so every thread inherits the mask and only sigtimedwait sees them.
 * Then two tasks run in an errgroup whose parent context may carry
 * --timeout-ms:
 *
 *	http	starts libmicrohttpd, waits for the group's context, stops
 *		accepting, waits for the requests already taken, then stops
 *		the daemon;
 *	signal	turns the first SIGINT or SIGTERM into the task error
 *		EINTR, which cancels the group's context with EINTR as its
 *		cause.
 *
 * The group context's cause is thus the shutdown reason: EINTR for a
 * signal, ETIMEDOUT for the timeout. Both are normal ends and exit 0;
 * any other task error exits 1.
 *
 * Draining. Every request is counted in a waitgroup from the handler's
 * first call until libmicrohttpd reports it complete, that is after the
 * answer went out. A mutex orders each count against the start of the
 * drain: once draining is set under it no count can follow, so the
 * wait can neither miss a request nor see its counter rise from zero.
 * A request that comes after that, on a connection kept alive, is
 * refused: a 503 if it is read before the daemon stops, else a closed
 * connection.
 *
 * Bodies are not copied: each response holds its caller's reference to
 * the shared result and releases it when libmicrohttpd frees the
 * response, so the group's free_value runs once, after the last
 * connection that sent the body.
 *
 * One thread per connection, not a pool: a waiter of a flight holds its
 * thread for the whole backend query, so a pool of N threads would make
 * request N+1 queue behind the flight instead of joining it.
 *
 * Limits. The backend is a sleep. A signal is seen at once, but the
 * signal task notices any other shutdown only at its next tick (100 ms),
 * because sigtimedwait cannot also wait on a context; that bounds the
 * extra exit latency of a timeout. The drain lasts at most one backend
 * query plus the connection timeout (10 s) of a client that stops
 * reading; a second signal during the drain is ignored, the bound
 * stands. Each open connection costs a thread.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include <gosync.h>

#define STATS_PATH           "/_stats"
#define SIGNAL_TICK_NS       (100 * GS_MILLISECOND)
#define CONNECTION_TIMEOUT_S 10u

struct server {
	/* Set by main before the tasks start; read-only after. */
	unsigned port;
	int64_t backend_ns;

	gs_singleflight_t flights;

	/* inflight counts taken requests; mu orders it against draining. */
	gs_mutex_t mu;
	bool draining;
	gs_waitgroup_t inflight;

	atomic_ulong requests; /* keyed requests answered 200 */
	atomic_ulong queries;  /* backend queries started */
	atomic_int signo;      /* the signal that ended the server */
};

/* What the first handler call decided, kept in the request's req_cls. */
static char taken_mark, refused_mark;

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static void complain(const char *fmt, ...)
{
	va_list ap;

	fputs("dedupe_server: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void shutdown_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
}

static const char *signal_name(int signo)
{
	switch (signo) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	default:
		return "unknown";
	}
}

static void sleep_ns(int64_t ns)
{
	struct timespec left = {ns / GS_SECOND, ns % GS_SECOND};

	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
}

static void free_body(void *value, void *arg)
{
	(void)arg;
	free(value);
}

/* The backend's question: which server asks, and for which key. */
struct query {
	struct server *s;
	const char *key;
};

/*
 * backend_query is the function of a flight: one slow backend call, run
 * on the leader's connection thread while the other callers wait.
 */
static int backend_query(void *arg, void **value)
{
	struct query *q = arg;
	unsigned long n = atomic_fetch_add(&q->s->queries, 1) + 1;
	char *body;

	sleep_ns(q->s->backend_ns);
	if (asprintf(&body, "key=%s query=%lu\n", q->key, n) < 0)
		return ENOMEM;
	*value = body;
	return 0;
}

static enum MHD_Result answer_text(struct MHD_Connection *c, unsigned status,
                                   const char *text, bool close_after)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
	                                       MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        "text/plain");
	if (close_after)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		                        "close");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result answer_stats(struct server *s, struct MHD_Connection *c)
{
	char text[64];

	snprintf(text, sizeof(text), "requests=%lu queries=%lu\n",
	         atomic_load(&s->requests), atomic_load(&s->queries));
	return answer_text(c, MHD_HTTP_OK, text, false);
}

/* Called by libmicrohttpd when it no longer needs a response's body. */
static void body_release(void *cls)
{
	gs_singleflight_result_t *r = cls;

	gs_singleflight_release(r);
	free(r);
}

static enum MHD_Result answer_key(struct server *s, struct MHD_Connection *c,
                                  const char *key)
{
	struct query q = {s, key};
	gs_singleflight_result_t *r;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	/* On the heap: the response keeps it until the body is sent. */
	r = malloc(sizeof(*r));
	if (r == NULL)
		return answer_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		                   "out of memory\n", false);
	if (gs_singleflight_do(&s->flights, key, strlen(key), backend_query, &q,
	                       r) != 0) {
		body_release(r);
		return answer_text(c, MHD_HTTP_BAD_GATEWAY, "backend failed\n",
		                   false);
	}

	resp = MHD_create_response_from_buffer_with_free_callback_cls(
	        strlen(r->value), r->value, body_release, r);
	if (resp == NULL) {
		body_release(r);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        "text/plain");
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES)
		atomic_fetch_add(&s->requests, 1);
	return ret;
}

/* request_take counts a new request unless the drain has begun. */
static bool request_take(struct server *s)
{
	bool taken;

	gs_mutex_lock(&s->mu);
	taken = !s->draining;
	if (taken)
		gs_waitgroup_add(&s->inflight, 1);
	gs_mutex_unlock(&s->mu);
	return taken;
}

static void drain(struct server *s)
{
	gs_mutex_lock(&s->mu);
	s->draining = true;
	gs_mutex_unlock(&s->mu);
	gs_waitgroup_wait(&s->inflight);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_len, void **req_cls)
{
	struct server *s = cls;

	(void)version;
	(void)upload;

	/* The first call brings only the headers: take the request. */
	if (*req_cls == NULL) {
		*req_cls = request_take(s) ? &taken_mark : &refused_mark;
		return MHD_YES;
	}
	/* Nothing here reads a body; let one go by unread. */
	if (*upload_len != 0) {
		*upload_len = 0;
		return MHD_YES;
	}

	if (*req_cls == &refused_mark)
		return answer_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		                   "shutting down\n", true);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n",
		                   false);
	if (strcmp(url, STATS_PATH) == 0)
		return answer_stats(s, c);
	return answer_key(s, c, url);
}

/* Runs once per request that reached the handler, after its answer. */
static void request_done(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;

	(void)c;
	(void)toe;
	if (*req_cls == &taken_mark)
		gs_waitgroup_done(&s->inflight);
	*req_cls = NULL;
}

static struct MHD_Daemon *daemon_start(struct server *s)
{
	struct sockaddr_in addr;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
	                 MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO |
	                 MHD_USE_ITC;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)s->port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	/* MHD_USE_ITC: MHD_quiesce_daemon needs it in this thread mode. */
	return MHD_start_daemon(flags, 0, NULL, NULL, handle, s,
	                        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
	                        MHD_OPTION_NOTIFY_COMPLETED, request_done, s,
	                        MHD_OPTION_CONNECTION_TIMEOUT,
	                        CONNECTION_TIMEOUT_S, MHD_OPTION_END);
}

static void say_reason(struct server *s, int cause)
{
	if (cause == EINTR)
		say("shutdown: signal %s", signal_name(atomic_load(&s->signo)));
	else if (cause == ETIMEDOUT)
		say("shutdown: timeout");
	else
		say("shutdown: error: %s", strerror(cause));
}

static int http_task(gs_ctx_t *ctx, void *arg)
{
	struct server *s = arg;
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	MHD_socket lsock;
	int err;

	errno = 0;
	d = daemon_start(s);
	if (d == NULL) {
		err = errno != 0 ? errno : EIO;
		complain("cannot listen on 127.0.0.1:%u: %s", s->port,
		         strerror(err));
		return err;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	say("listening on 127.0.0.1:%u",
	    info != NULL ? (unsigned)info->port : s->port);

	gs_ctx_wait(ctx);
	say_reason(s, gs_ctx_cause(ctx));

	lsock = MHD_quiesce_daemon(d);
	drain(s);
	MHD_stop_daemon(d);
	/* The quiesced socket is ours, to close only after the stop. */
	if (lsock != MHD_INVALID_SOCKET)
		close(lsock);
	return 0;
}

static int signal_task(gs_ctx_t *ctx, void *arg)
{
	struct server *s = arg;
	const struct timespec tick = {0, SIGNAL_TICK_NS};
	sigset_t set;
	int sig;

	shutdown_signals(&set);
	while (!gs_ctx_done(ctx)) {
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig > 0) {
			/* The cancel that follows publishes signo. */
			atomic_store(&s->signo, sig);
			return EINTR;
		}
	}
	return 0;
}

struct options {
	long port;
	long backend_ms;
	long timeout_ms;
};

static bool parse_count(const char *text, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < 0 || v > max)
		return false;
	*out = v;
	return true;
}

static void usage(FILE *f)
{
	fputs("usage: dedupe_server [--port N] [--backend-ms N]"
	      " [--timeout-ms N]\n"
	      "  --port N        port on 127.0.0.1, 0 picks a free one"
	      " (default 0)\n"
	      "  --backend-ms N  time of one backend query (default 200)\n"
	      "  --timeout-ms N  stop after N ms, 0 never (default 0)\n",
	      f);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	        {"port", required_argument, NULL, 'p'},
	        {"backend-ms", required_argument, NULL, 'b'},
	        {"timeout-ms", required_argument, NULL, 't'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c;
	bool ok;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			ok = parse_count(optarg, 65535, &o->port);
			break;
		case 'b':
			ok = parse_count(optarg, 3600000, &o->backend_ms);
			break;
		case 't':
			ok = parse_count(optarg, 86400000, &o->timeout_ms);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			ok = false;
			break;
		}
		if (!ok) {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {0, 200, 0};
	struct server s = {.flights = GS_SINGLEFLIGHT_INIT(free_body, NULL)};
	gs_errgroup_t g = GS_ERRGROUP_INIT;
	gs_ctx_t *parent = gs_ctx_background();
	sigset_t set;
	int err;

	err = parse_options(argc, argv, &o);
	if (err != 0)
		return err;
	s.port = (unsigned)o.port;
	s.backend_ns = o.backend_ms * GS_MILLISECOND;

	/* Before any thread starts, so that all of them inherit it. */
	shutdown_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (o.timeout_ms > 0 &&
	    gs_ctx_with_timeout(parent, o.timeout_ms * GS_MILLISECOND,
	                        &parent) != 0) {
		complain("out of memory");
		return 1;
	}
	if (gs_errgroup_with_ctx(&g, parent) != 0) {
		complain("out of memory");
		return 1;
	}

	/* A task that cannot start is recorded; wait reports it. */
	gs_errgroup_go(&g, http_task, &s);
	gs_errgroup_go(&g, signal_task, &s);
	err = gs_errgroup_wait(&g);
	gs_errgroup_destroy(&g);
	if (parent != gs_ctx_background()) {
		gs_ctx_cancel(parent);
		gs_ctx_unref(parent);
	}
	gs_singleflight_destroy(&s.flights);

	say("served %lu requests", atomic_load(&s.requests));
	say("backend queries %lu", atomic_load(&s.queries));
	if (err != 0 && err != EINTR) {
		complain("stopped by error: %s", strerror(err));
		return 1;
	}
	return 0;
}
