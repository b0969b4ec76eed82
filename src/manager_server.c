/* The manager's server: the built-in task a manager's child process runs.
 *
 * It listens on a fresh endpoint, tells its owner the name over the pipe
 * it was handed, then gives every connection a thread of its own (the same
 * shape on every platform, and a slow or stuck client holds up nobody).
 * A connection must first prove it holds the token the owner generated;
 * after that each request frame gets one reply frame. A malformed frame
 * ends that connection only.
 *
 * A session may also be given a shared-memory lane (src/manager_lane.c):
 * its thread then serves the lane and its socket alike. After each call it
 * spins on the lane for a moment, then announces that it sleeps and
 * blocks on the socket, where a DOORBELL frame sends it back to the lane
 * and the client's EOF ends the session, which frees the lane.
 *
 * SHUTDOWN from the owner stops the accept loop; the task then returns and
 * the worker exits, which closes every other connection: their clients
 * read MP_ECLOSED. The owner's death ends this process through the usual
 * die-with-parent machinery, and the endpoint's name goes with it. */
#include <stdlib.h>
#include <string.h>

#include "manager.h"
#include "manager_lane.h"
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
  /* The session's lane, if it asked for one and one was free. */
  mp__lane *lane;
  uint32_t lane_index;
  uint32_t lane_seq;     /* the last lane request served */
  uint8_t *lane_copy;    /* MP__LANE_AREA bytes: requests are decoded here */
  mp__lane_spinner spin;
} session;

struct server {
  mp__mgr_store *store;
  mp__listener *listener;
  char name[MP__ENDPOINT_NAME_MAX];
  uint8_t token[MP__MGR_TOKEN_LEN];
  mp__mutex *lock;       /* guards sessions and stopping */
  session *sessions;
  int stopping;
  void *lanes;           /* the lane region, or NULL: no lanes */
  uint8_t lane_used[MP__LANE_COUNT]; /* guarded by lock */
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

/* Answers a request that came on the socket (on_lane 0) or the lane. A
 * lane reply too big for the lane is published as "on the socket" and
 * then written there, after the doorbell, so a sleeping client wakes. */
static int reply(session *se, int on_lane, uint64_t seq, int status, const void *p, size_t n) {
  if (!on_lane) return mp__mgr_write_reply(se->wr, seq, status, p, n, NULL, 0);
  int fits = mp__lane_put_reply(se->lane, (uint32_t)seq, status, p, n, NULL, 0);
  int rc = mp__lane_ring(&se->lane->client_sleeping, se->wr);
  if (rc == MP_OK && !fits) rc = mp__mgr_write_reply(se->wr, seq, status, p, n, NULL, 0);
  return rc;
}

/* Carries out one authenticated request and writes its reply. MP_OK to
 * go on; anything else ends the connection (*stop: it was SHUTDOWN). */
static int serve_one(session *se, uint64_t seq, const mp__mgr_request *rq, int *stop, int on_lane) {
  mp__mgr_store *s = se->srv->store;
  mp__mgr_answer a;
  int rc = mp__mgr_execute(s, rq, &a);
  *stop = a.stop;
  if (rc != MP_OK) {
    const char *text = mp_last_error();
    size_t n = strlen(text);
    int wrc = reply(se, on_lane, seq, rc, text, n > MP__MGR_TEXT_MAX ? MP__MGR_TEXT_MAX : n);
    return rc == MP_EPROTO ? rc : wrc;
  }
  if (a.value) {
    /* Sent without the store's lock: the reference keeps the bytes. */
    rc = reply(se, on_lane, seq, MP_OK, a.value->data, a.value->len);
    mp__mgr_value_release(s, a.value);
    return rc;
  }
  uint8_t answer[8];
  mp__store_u64(answer, a.u64);
  return reply(se, on_lane, seq, MP_OK, answer, a.has_u64 ? sizeof answer : 0);
}

/* MP__MGR_LANE: a free lane for this session, or MP__LANE_NONE. */
static int give_lane(session *se, uint64_t seq) {
  server *srv = se->srv;
  uint64_t index = MP__LANE_NONE;
  if (se->lane) {
    index = se->lane_index;
  } else if (srv->lanes && (se->lane_copy = malloc(MP__LANE_AREA)) != NULL) {
    mp__mutex_lock(srv->lock);
    for (uint32_t i = 0; i < MP__LANE_COUNT; i++)
      if (!srv->lane_used[i]) {
        srv->lane_used[i] = 1;
        index = i;
        break;
      }
    mp__mutex_unlock(srv->lock);
    if (index == MP__LANE_NONE) {
      free(se->lane_copy);
      se->lane_copy = NULL;
    } else {
      se->lane_index = (uint32_t)index;
      se->lane = mp__lane_at(srv->lanes, se->lane_index);
      se->lane_seq = 0;
      mp__lane_reset(se->lane);
    }
  }
  uint8_t answer[8];
  mp__store_u64(answer, index);
  return mp__mgr_write_reply(se->wr, seq, MP_OK, answer, sizeof answer, NULL, 0);
}

static void free_lane(session *se) {
  if (!se->lane) return;
  mp__mutex_lock(se->srv->lock);
  se->srv->lane_used[se->lane_index] = 0;
  mp__mutex_unlock(se->srv->lock);
  se->lane = NULL;
  free(se->lane_copy);
  se->lane_copy = NULL;
}

/* Serves the request the client published on the lane. */
static int serve_lane(session *se, int *stop) {
  uint32_t seq = mp__atomic_load32(&se->lane->req_seq);
  if (seq != se->lane_seq + 1)
    return mp__set_error(MP_EPROTO, "malformed manager lane: call %u after %u", seq, se->lane_seq);
  mp__mgr_request rq;
  int rc = mp__lane_take_request(se->lane, se->lane_copy, &rq);
  if (rc != MP_OK) return rc;
  se->lane_seq = seq;
  return serve_one(se, seq, &rq, stop, 1);
}

/* With a lane: spins on it for a moment, then announces sleep and looks
 * once more. 1 if a lane request is waiting (the flag withdrawn), 0 if
 * the caller may block on the socket. */
static int lane_has_work(session *se) {
  mp__lane *l = se->lane;
  if (mp__lane_spin(&l->req_seq, se->lane_seq + 1, &se->spin)) return 1;
  if (mp__lane_announce(&l->server_sleeping, &l->req_seq) == se->lane_seq) return 0;
  /* Found work after all. If the client took the flag first, its
   * doorbell is skipped when this thread next reads the socket. */
  (void)mp__lane_withdraw(&l->server_sleeping);
  return 1;
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
  if (h->type == MP__FRAME_MGR_DOORBELL) {
    if (h->len != 0) return mp__set_error(MP_EPROTO, "malformed frame: a doorbell with a body");
    return mp__frame_read_body(r, small, MP_FOREVER, NULL);
  }
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
    int rc;
    if (se->lane && lane_has_work(se)) {
      if (serve_lane(se, &stop) != MP_OK) break;
      continue;
    }
    rc = next_request(&r, small, &heap, &h, &rq);
    if (se->lane) (void)mp__lane_withdraw(&se->lane->server_sleeping);
    if (rc == MP_OK && h.type == MP__FRAME_MGR_DOORBELL) continue; /* look at the lane */
    if (rc == MP_OK) {
      if (!greeted)
        rc = greet(se, h.id, &rq);
      else if (rq.op == MP__MGR_LANE)
        rc = give_lane(se, h.id);
      else
        rc = serve_one(se, h.id, &rq, &stop, 0);
    }
    free(heap);
    if (rc != MP_OK) break; /* the client went, or broke the protocol */
    greeted = 1;
  }
  free_lane(se);
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
  /* Object 1: the lane region. Without it (or with a wrong one) the
   * server still works, over sockets only. */
  mp_shm *lanes = mp_call_shm(call, 1);
  if (lanes && mp__lane_region_check(mp_shm_ptr(lanes), mp_shm_size(lanes)) == MP_OK) srv->lanes = mp_shm_ptr(lanes);
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
