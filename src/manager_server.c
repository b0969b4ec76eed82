/* The manager's server: the built-in task a manager's child process runs.
 *
 * It listens on a fresh endpoint, tells its owner the name over the pipe
 * it was handed, then gives every connection a thread of its own (the same
 * shape on every platform, and a slow or stuck client holds up nobody).
 * A connection must first prove it holds the token the owner generated;
 * after that each request frame gets one reply frame. A malformed frame
 * ends that connection only.
 *
 * SHUTDOWN from the owner stops the accept loop; the task then returns and
 * the worker exits, which closes every other connection: their clients
 * read MP_ECLOSED. The owner's death ends this process through the usual
 * die-with-parent machinery, and the endpoint's name goes with it. */
#include <stdlib.h>
#include <string.h>

#include "manager.h"
#include "manager_store.h"
#include "manager_wire.h"

/* A small request's body lands in a buffer on the thread's stack. */
#define SMALL_BODY 2048

typedef struct server server;

typedef struct session {
  server *srv;
  mp__handle rd, wr;     /* requests in, replies out */
  mp__thread *thread;
  int done;              /* the thread has finished; guarded by srv->lock */
  struct session *next;
} session;

struct server {
  mp__mgr_store *store;
  mp__listener *listener;
  char name[MP__ENDPOINT_NAME_MAX];
  uint8_t token[MP__MGR_TOKEN_LEN];
  mp__mutex *lock;       /* guards sessions and stopping */
  session *sessions;
  int stopping;
};

static int token_matches(const server *srv, const void *token) {
  /* Constant time: how far a guess matched must not show in the timing. */
  const uint8_t *t = token;
  uint8_t diff = 0;
  for (size_t i = 0; i < MP__MGR_TOKEN_LEN; i++) diff |= (uint8_t)(t[i] ^ srv->token[i]);
  return diff == 0;
}

static void request_stop(server *srv) {
  mp__mutex_lock(srv->lock);
  srv->stopping = 1;
  mp__mutex_unlock(srv->lock);
  /* Wake the accept loop with a connection of our own; if that fails, its
   * next timeout notices just the same. */
  mp__handle rd, wr;
  if (mp__endpoint_connect(srv->name, &rd, &wr, 1.0) == MP_OK) {
    mp__handle_close(rd);
    mp__handle_close(wr);
  }
}

/* Carries out one authenticated request and writes its reply. MP_OK to
 * go on; anything else ends the connection (*stop: it was SHUTDOWN). */
static int serve_one(session *se, uint64_t seq, const mp__mgr_request *rq, int *stop) {
  mp__mgr_store *s = se->srv->store;
  mp__mgr_answer a;
  int rc = mp__mgr_execute(s, rq, &a);
  *stop = a.stop;
  if (rc != MP_OK) {
    const char *text = mp_last_error();
    size_t n = strlen(text);
    int wrc = mp__mgr_write_reply(se->wr, seq, rc, text, n > MP__MGR_TEXT_MAX ? MP__MGR_TEXT_MAX : n, NULL, 0);
    return rc == MP_EPROTO ? rc : wrc;
  }
  if (a.value) {
    /* Sent without the store's lock: the reference keeps the bytes. */
    rc = mp__mgr_write_reply(se->wr, seq, MP_OK, a.value->data, a.value->len, NULL, 0);
    mp__mgr_value_release(s, a.value);
    return rc;
  }
  uint8_t answer[8];
  mp__store_u64(answer, a.u64);
  return mp__mgr_write_reply(se->wr, seq, MP_OK, answer, a.has_u64 ? sizeof answer : 0, NULL, 0);
}

/* The first request must be HELLO with the owner's token. */
static int greet(session *se, uint64_t seq, const mp__mgr_request *rq) {
  if (rq->op != MP__MGR_HELLO || rq->num != MP__MGR_PROTOCOL || !token_matches(se->srv, rq->value)) {
    static const char text[] = "the manager refused the connection: wrong token or protocol";
    (void)mp__mgr_write_reply(se->wr, seq, MP_EPROTO, text, sizeof text - 1, NULL, 0);
    return MP_EPROTO;
  }
  return mp__mgr_write_reply(se->wr, seq, MP_OK, NULL, 0, NULL, 0);
}

/* Reads one request; its body lands in small or in *heap (freed by the
 * caller). */
static int next_request(mp__frame_reader *r, uint8_t small[SMALL_BODY], void **heap, mp__frame_header *h,
                        mp__mgr_request *rq) {
  int rc = mp__frame_read_header(r, MP_FOREVER, h);
  if (rc != MP_OK) return rc;
  if (h->type != MP__FRAME_MGR_REQUEST)
    return mp__set_error(MP_EPROTO, "malformed frame: type %u on a manager connection", (unsigned)h->type);
  const uint8_t *body = small;
  if (h->len <= SMALL_BODY) {
    rc = mp__frame_read_body(r, small, MP_FOREVER, NULL);
  } else {
    rc = mp__frame_read_body(r, NULL, MP_FOREVER, heap);
    body = *heap;
  }
  if (rc != MP_OK) return rc;
  return mp__mgr_decode_request((int)h->flags, body, (size_t)h->len, rq);
}

static void session_main(void *arg) {
  session *se = arg;
  mp__frame_reader r;
  uint8_t small[SMALL_BODY];
  int greeted = 0, stop = 0;
  mp__frame_reader_init(&r, se->rd, MP__MGR_REQUEST_MAX);
  /* This thread only ever waits for the next request, so its reads may
   * block in the kernel: one system call where a timed read takes three.
   * (On the loaded 2-core machine this was measured against spinning
   * briefly before sleeping, fixed or adaptive: blocking won, by 1.1x
   * to 1.9x.) A failure here only costs that saving. */
  (void)mp__handle_reads_block(se->rd);
  while (!stop) {
    void *heap = NULL;
    mp__frame_header h;
    mp__mgr_request rq;
    int rc = next_request(&r, small, &heap, &h, &rq);
    if (rc == MP_OK) rc = greeted ? serve_one(se, h.id, &rq, &stop) : greet(se, h.id, &rq);
    free(heap);
    if (rc != MP_OK) break; /* the client went, or broke the protocol */
    greeted = 1;
  }
  mp__frame_reader_release(&r);
  mp__handle_close(se->rd);
  mp__handle_close(se->wr);
  se->rd = se->wr = MP__NO_HANDLE;
  if (stop) request_stop(se->srv);
  mp__mutex_lock(se->srv->lock);
  se->done = 1;
  mp__mutex_unlock(se->srv->lock);
}

/* Joins and frees the sessions whose threads have finished. */
static void reap_sessions(server *srv) {
  session *finished = NULL;
  mp__mutex_lock(srv->lock);
  for (session **at = &srv->sessions; *at;) {
    session *se = *at;
    if (se->done) {
      *at = se->next;
      se->next = finished;
      finished = se;
    } else {
      at = &se->next;
    }
  }
  mp__mutex_unlock(srv->lock);
  while (finished) {
    session *se = finished;
    finished = se->next;
    mp__thread_join(se->thread);
    free(se);
  }
}

static void start_session(server *srv, mp__handle rd, mp__handle wr) {
  session *se = calloc(1, sizeof *se);
  if (!se) {
    mp__handle_close(rd);
    mp__handle_close(wr);
    return;
  }
  se->srv = srv;
  se->rd = rd;
  se->wr = wr;
  /* Linked in before the thread starts, so it is never missed by a reap. */
  mp__mutex_lock(srv->lock);
  se->next = srv->sessions;
  srv->sessions = se;
  mp__mutex_unlock(srv->lock);
  if (mp__thread_start(&se->thread, session_main, se) != MP_OK) {
    mp__mutex_lock(srv->lock);
    for (session **at = &srv->sessions; *at; at = &(*at)->next)
      if (*at == se) {
        *at = se->next;
        break;
      }
    mp__mutex_unlock(srv->lock);
    mp__handle_close(rd);
    mp__handle_close(wr);
    free(se);
  }
}

static int stopping(server *srv) {
  mp__mutex_lock(srv->lock);
  int s = srv->stopping;
  mp__mutex_unlock(srv->lock);
  return s;
}

static void serve(server *srv) {
  while (!stopping(srv)) {
    mp__handle rd, wr;
    /* The timeout only bounds how long finished sessions wait to be
     * joined, and how late a missed wake-up is noticed. */
    int rc = mp__endpoint_accept(srv->listener, &rd, &wr, 1.0);
    reap_sessions(srv);
    if (rc == MP_OK && stopping(srv)) {
      mp__handle_close(rd);
      mp__handle_close(wr);
      break;
    }
    if (rc == MP_OK)
      start_session(srv, rd, wr);
    else if (rc != MP_ETIMEDOUT)
      mp__sleep(0.01); /* out of descriptors or the like: let it pass */
  }
}

/* Tells the owner the endpoint's name, or why there is none. */
static int send_ready(mp_conn *c, int status, const char *text) {
  uint8_t msg[1 + 512];
  size_t n = strlen(text);
  if (n > sizeof msg - 1) n = sizeof msg - 1;
  msg[0] = (uint8_t)(-status);
  memcpy(msg + 1, text, n);
  return mp_conn_send(c, msg, 1 + n);
}

/* The server of this process (a manager's child runs one, until it
 * exits). Not on mp__manager_serve's stack: sessions blocked in reads are
 * still inside it after that returns, until the process ends under them
 * (valgrind caught a session reading the dead frame as it finished). */
static server the_server;

int mp__manager_serve(mp_call *call) {
  server *srv = &the_server;
  size_t len = 0;
  const void *token = mp_call_arg(call, &len);
  mp_conn *ready = mp_call_conn(call, 0);
  if (!ready || len != MP__MGR_TOKEN_LEN) return mp_call_fail(call, "manager: started without its token or pipe");
  memset(srv, 0, sizeof *srv);
  memcpy(srv->token, token, sizeof srv->token);
  int rc = mp__mgr_store_new(&srv->store);
  if (rc == MP_OK) rc = mp__mutex_new(&srv->lock);
  if (rc == MP_OK) rc = mp__endpoint_listen(&srv->listener, srv->name);
  if (rc != MP_OK) {
    send_ready(ready, rc, mp_last_error());
    return mp_call_fail(call, "manager: %s", mp_last_error());
  }
  if (send_ready(ready, MP_OK, srv->name) != MP_OK) return mp_call_fail(call, "manager: the owner is gone");
  serve(srv);
  /* Other sessions may still be blocked in reads: the process ends under
   * them, which closes their connections; nothing here is freed after. */
  mp__endpoint_close(srv->listener);
  return 0;
}
