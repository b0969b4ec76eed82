/* Queue soak: producer processes killed at random in the middle of their
 * puts (and, in some rounds, consumers in the middle of their gets) while
 * consumer processes keep reading.
 *
 * The promise under test (README, "A Queue's messages live in shared
 * memory"): a message is delivered whole or not at all (each carries a
 * checksum); a killed producer loses at most the message it was putting,
 * and a killed consumer at most the one it had taken; each producer's
 * messages come out in the order it put them; nothing is delivered twice;
 * and no one wedges: every wait is bounded, and after the last kill the
 * queue is closed and the consumers must drain it and finish.
 *
 * Accounting. Every producer run is an "incarnation" with its own number;
 * after each put that returned MP_OK it records how many it has put, in
 * shared memory, where the parent reads it once the process is dead. The
 * consumers mark each message they take in a per-incarnation bitmap (also
 * shared). At the end, incarnation i must show exactly messages 0..K-1,
 * where K is its count (it finished) or its recorded count, plus possibly
 * the one it was putting when it was killed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soak.h"

enum {
  MAX_INC = 16384,        /* incarnations per round */
  SEQ_CAP = 2048,         /* messages per incarnation, then it ends by itself */
  MAX_PRODUCERS = 4,
  MAX_CONSUMERS = 3,
  MAX_MESSAGE = 1 << 20,
};
#define MSG_MAGIC 0x51534F414Bu /* "QSOAK" */

typedef struct queue_shared {
  volatile uint32_t progress[MAX_INC]; /* puts done, per incarnation */
  volatile uint32_t consumed, torn, dups, misordered, strays;
  volatile uint32_t seen[MAX_INC][SEQ_CAP / 32];
} queue_shared;

typedef struct header {
  uint32_t magic, inc, seq, len;
  uint64_t sum; /* soak_checksum of the whole message with sum = 0 */
} header;

typedef struct producer_arg {
  uint32_t inc, count;
  uint64_t seed;
  uint32_t small_only; /* unbounded rounds: no backlog of big messages */
} producer_arg;

/* --------------------------------------------------------- messages */
/* Mostly small, some medium, one in 128 up to 1 MiB: a big put takes long
 * enough that kills often land inside the copy. */
static size_t message_size(uint64_t r, int small_only) {
  size_t h = sizeof(header);
  if (small_only || r % 16 > 1) return h + (size_t)(r >> 8) % 200;
  if (r % 128 == 0) return h + 64 * 1024 + (size_t)(r >> 12) % (MAX_MESSAGE - 64 * 1024 - h);
  return h + 1024 + (size_t)(r >> 16) % (32 * 1024);
}

static void make_message(unsigned char *buf, size_t len, uint32_t inc, uint32_t seq) {
  header h = {(uint32_t)MSG_MAGIC, inc, seq, (uint32_t)len, 0};
  uint64_t x = soak_mix(((uint64_t)inc << 32) | seq);
  for (size_t i = sizeof h; i < len; i++) buf[i] = (unsigned char)((x >> (i % 8 * 8)) ^ i);
  memcpy(buf, &h, sizeof h);
  h.sum = soak_checksum(buf, len, 0);
  memcpy(buf, &h, sizeof h);
}

/* 1 if whole: the length, the magic and the checksum agree. */
static int message_ok(unsigned char *buf, size_t len, header *h) {
  if (len < sizeof *h) return 0;
  memcpy(h, buf, sizeof *h);
  if (h->magic != (uint32_t)MSG_MAGIC || h->len != len) return 0;
  uint64_t sum = h->sum;
  header zero = *h;
  zero.sum = 0;
  memcpy(buf, &zero, sizeof zero);
  return soak_checksum(buf, len, 0) == sum;
}

/* ------------------------------------------------------------ tasks */
static int producer(mp_call *call) {
  producer_arg a;
  mp_queue *q = mp_call_queue(call, 0);
  queue_shared *sh = mp_shm_ptr(mp_call_shm(call, 1));
  if (mp_call_arg_read(call, &a, sizeof a) != MP_OK || !q || !sh || a.inc >= MAX_INC)
    return mp_call_fail(call, "producer: bad setup");
  unsigned char *buf = malloc(MAX_MESSAGE);
  if (!buf) return mp_call_fail(call, "producer: out of memory");
  uint64_t rng = a.seed | 1;
  for (uint32_t seq = 0; seq < a.count; seq++) {
    size_t len = message_size(soak_rand(&rng), (int)a.small_only);
    make_message(buf, len, a.inc, seq);
    /* Bounded: a queue wedged by a dead producer shows as a failure here. */
    int rc = mp_queue_put(q, buf, len, 60);
    if (rc != MP_OK) {
      free(buf);
      return mp_call_fail(call, "incarnation %u: put of message %u: %s: %s", a.inc, seq, mp_err_name(rc),
                          mp_last_error());
    }
    mp__atomic_store32(&sh->progress[a.inc], seq + 1);
  }
  free(buf);
  return 0;
}

/* Marks message (inc, seq) seen; 0 if it had been seen already. */
static int mark_seen(queue_shared *sh, uint32_t inc, uint32_t seq) {
  volatile uint32_t *w = &sh->seen[inc][seq / 32];
  uint32_t bit = 1u << (seq % 32), old = mp__atomic_load32(w);
  while (!(old & bit))
    if (mp__atomic_cas32(w, &old, old | bit)) return 1;
  return 0;
}

typedef struct consumer_report {
  uint64_t got, timeouts;
} consumer_report;

static int consumer(mp_call *call) {
  mp_queue *q = mp_call_queue(call, 0);
  queue_shared *sh = mp_shm_ptr(mp_call_shm(call, 1));
  unsigned char *buf = malloc(MAX_MESSAGE);
  int32_t *last = malloc(MAX_INC * sizeof *last);
  if (!q || !sh || !buf || !last) return mp_call_fail(call, "consumer: bad setup");
  for (size_t i = 0; i < MAX_INC; i++) last[i] = -1;
  consumer_report rep = {0, 0};
  for (;;) {
    size_t len = 0;
    /* Bounded waits only: a consumer that times out just asks again, so
     * one that never returns is the queue's fault. */
    int rc = mp_queue_get_into(q, buf, MAX_MESSAGE, &len, 2.0);
    if (rc == MP_ETIMEDOUT) {
      rep.timeouts++;
      continue;
    }
    if (rc == MP_ECLOSED) break;
    if (rc != MP_OK) return mp_call_fail(call, "get: %s: %s", mp_err_name(rc), mp_last_error());
    header h;
    rep.got++;
    if (!message_ok(buf, len, &h)) {
      mp__atomic_add32(&sh->torn, 1);
    } else if (h.inc >= MAX_INC || h.seq >= SEQ_CAP) {
      mp__atomic_add32(&sh->strays, 1);
    } else {
      if (!mark_seen(sh, h.inc, h.seq)) mp__atomic_add32(&sh->dups, 1);
      if ((int32_t)h.seq <= last[h.inc]) mp__atomic_add32(&sh->misordered, 1);
      last[h.inc] = (int32_t)h.seq;
    }
    mp__atomic_add32(&sh->consumed, 1);
  }
  free(buf);
  free(last);
  return mp_call_return(call, &rep, sizeof rep);
}

/* ------------------------------------------------------------ rounds */
typedef struct plan {
  const char *what;
  size_t maxsize; /* 0: unbounded (then small messages only) */
  int producers, consumers;
  int kill_consumers;
} plan;

static const plan plans[] = {
    {"bounded (64), 3 producers, 2 consumers", 64, 3, 2, 0},
    {"bounded (8), 4 producers, 1 consumer: producers wait for room", 8, 4, 1, 0},
    {"unbounded, small messages, 3 producers, 2 consumers", 0, 3, 2, 0},
    {"bounded (32), 3 producers, 3 consumers, consumers killed too", 32, 3, 3, 1},
};

typedef struct totals {
  uint64_t rounds, messages, producers_killed, producers_finished, consumers_killed;
  uint64_t in_flight_delivered, in_flight_lost, lost_to_consumer_kills;
} totals;

typedef enum { INC_NONE = 0, INC_RUNNING, INC_FINISHED, INC_KILLED } inc_state;

typedef struct round_state {
  const plan *pl;
  mp_queue *q;
  mp_shm *shm;
  queue_shared *sh;
  mp_process *prod[MAX_PRODUCERS], *cons[MAX_CONSUMERS];
  uint32_t prod_inc[MAX_PRODUCERS];
  uint8_t *inc_state;
  uint32_t *inc_count;
  uint32_t next_inc;
  uint64_t consumer_kills;
  uint64_t *rng;
} round_state;

static volatile uint32_t heartbeat; /* the main loop's pulse, for the watchdog */
static round_state *watched;

static uint64_t queue_progress(void *ud, char *state, size_t cap) {
  (void)ud;
  round_state *rs = watched;
  uint32_t consumed = rs ? mp__atomic_load32(&rs->sh->consumed) : 0;
  snprintf(state, cap, "%u messages consumed, %u incarnations started", consumed, rs ? rs->next_inc : 0);
  return ((uint64_t)mp__atomic_load32(&heartbeat) << 32) + consumed;
}

static mp_process *start(round_state *rs, const char *task, const void *arg, size_t len) {
  mp_object *objs[2] = {mp_queue_obj(rs->q), mp_shm_obj(rs->shm)};
  mp_process_options o = {0};
  o.objects = objs;
  o.nobjects = 2;
  mp_process *p = NULL;
  if (mp_process_start(&p, task, arg, len, &o) != MP_OK) {
    soak_fail("start %s: %s", task, mp_last_error());
    return NULL;
  }
  return p;
}

static void start_producer(round_state *rs, int slot) {
  rs->prod[slot] = NULL;
  if (rs->next_inc >= MAX_INC) return; /* the round's table is full: stop starting */
  producer_arg a = {rs->next_inc, SEQ_CAP, soak_rand(rs->rng), rs->pl->maxsize == 0};
  rs->prod_inc[slot] = rs->next_inc;
  rs->inc_state[rs->next_inc] = INC_RUNNING;
  rs->inc_count[rs->next_inc] = SEQ_CAP;
  rs->next_inc++;
  rs->prod[slot] = start(rs, "producer", &a, sizeof a);
}

/* Reaps a producer that has ended (kill or not) and records how; 1 if
 * the kill is what ended it. */
static int reap_producer(round_state *rs, int slot, int killed) {
  mp_process *p = rs->prod[slot];
  uint32_t inc = rs->prod_inc[slot];
  if (mp_process_join(p, 60) != MP_OK) {
    soak_fail("producer of incarnation %u did not end within 60 s of its kill", inc);
    mp_process_free(p);
    rs->prod[slot] = NULL;
    return 0;
  }
  int code = 0;
  mp_process_exitcode(p, &code);
  if (killed && code == -9) {
    rs->inc_state[inc] = INC_KILLED;
  } else if (code == 0) {
    rs->inc_state[inc] = INC_FINISHED; /* it finished before the kill landed */
  } else {
    mp_result r;
    memset(&r, 0, sizeof r);
    mp_process_result(p, &r);
    soak_fail("producer of incarnation %u ended with code %d: %s", inc, code, r.message ? r.message : "(no message)");
    mp_result_clear(&r);
    rs->inc_state[inc] = INC_KILLED;
  }
  mp_process_free(p);
  rs->prod[slot] = NULL;
  return rs->inc_state[inc] == INC_KILLED;
}

/* One round's checks, incarnation by incarnation. */
static void check_round(round_state *rs, totals *t) {
  queue_shared *sh = rs->sh;
  uint64_t missing = 0;
  for (uint32_t inc = 0; inc < rs->next_inc; inc++) {
    uint32_t progress = mp__atomic_load32(&sh->progress[inc]);
    uint32_t want = rs->inc_state[inc] == INC_FINISHED ? rs->inc_count[inc] : progress;
    uint32_t got = 0, top = 0;
    for (uint32_t s = 0; s < SEQ_CAP; s++) {
      if ((sh->seen[inc][s / 32] >> (s % 32)) & 1) {
        got++;
        top = s + 1;
      }
    }
    t->messages += got;
    if (rs->inc_state[inc] == INC_FINISHED && progress != rs->inc_count[inc])
      soak_fail("incarnation %u finished but recorded %u puts of %u", inc, progress, rs->inc_count[inc]);
    /* The killed one's message in flight may have made it: one past want. */
    uint32_t allowed_top = rs->inc_state[inc] == INC_KILLED && want < SEQ_CAP ? want + 1 : want;
    if (top > allowed_top) soak_fail("incarnation %u: message %u delivered, but only %u were put", inc, top - 1, want);
    t->producers_killed += rs->inc_state[inc] == INC_KILLED;
    t->producers_finished += rs->inc_state[inc] == INC_FINISHED;
    if (rs->inc_state[inc] == INC_KILLED) {
      if (top == want + 1)
        t->in_flight_delivered++;
      else
        t->in_flight_lost++;
    }
    /* Below want every message must be there, except what a killed
     * consumer took with it. */
    for (uint32_t s = 0; s < want; s++) missing += !((sh->seen[inc][s / 32] >> (s % 32)) & 1);
  }
  if (missing > rs->consumer_kills)
    soak_fail("%llu messages lost (put and acknowledged, never delivered); consumers killed: %llu",
              (unsigned long long)missing, (unsigned long long)rs->consumer_kills);
  t->lost_to_consumer_kills += missing;
  if (sh->torn) soak_fail("%u torn messages delivered", sh->torn);
  if (sh->dups) soak_fail("%u messages delivered twice", sh->dups);
  if (sh->misordered) soak_fail("%u messages out of their producer's order", sh->misordered);
  if (sh->strays) soak_fail("%u messages from nowhere", sh->strays);
}

/* Close, then every consumer must drain and end by itself. */
static void drain(round_state *rs) {
  if (mp_queue_close(rs->q) != MP_OK) soak_fail("close: %s", mp_last_error());
  for (int c = 0; c < rs->pl->consumers; c++) {
    mp_process *p = rs->cons[c];
    if (!p) continue;
    if (mp_process_join(p, 120) != MP_OK) {
      soak_fail("consumer %d did not finish within 120 s of the close: wedged", c);
    } else {
      mp_result r;
      memset(&r, 0, sizeof r);
      mp_process_result(p, &r);
      if (r.status != MP_OK) soak_fail("consumer %d: %s", c, r.message ? r.message : mp_err_name(r.status));
      mp_result_clear(&r);
    }
    rs->cons[c] = mp_process_free(p);
  }
  size_t left = 1;
  mp_queue_qsize(rs->q, &left);
  if (left) soak_fail("%zu messages left in the queue after the drain", left);
}

static void run_round(const soak_config *cfg, const plan *pl, double seconds, uint64_t *rng, totals *t) {
  round_state rs;
  memset(&rs, 0, sizeof rs);
  rs.pl = pl;
  rs.rng = rng;
  rs.inc_state = calloc(MAX_INC, 1);
  rs.inc_count = calloc(MAX_INC, sizeof *rs.inc_count);
  mp_queue_options qo = {pl->maxsize, 0};
  if (!rs.inc_state || !rs.inc_count || mp_queue_create(&rs.q, &qo) != MP_OK ||
      mp_shm_create(&rs.shm, sizeof(queue_shared)) != MP_OK) {
    soak_fail("round setup: %s", mp_last_error());
    goto done;
  }
  rs.sh = mp_shm_ptr(rs.shm);
  watched = &rs;
  for (int c = 0; c < pl->consumers; c++) rs.cons[c] = start(&rs, "consumer", NULL, 0);
  for (int s = 0; s < pl->producers; s++) start_producer(&rs, s);
  double lo = cfg->reduced ? 0.02 : 0.001, hi = cfg->reduced ? 0.06 : 0.006;
  double end = mp__now() + seconds, next_consumer_kill = mp__now() + 0.1;
  while (mp__now() < end && !soak_failures()) {
    mp__sleep(soak_uniform(rng, lo, hi));
    mp__atomic_add32(&heartbeat, 1);
    /* Those that finished their run start again as a new incarnation. */
    for (int s = 0; s < pl->producers; s++) {
      if (rs.prod[s] && !mp_process_is_alive(rs.prod[s])) {
        reap_producer(&rs, s, 0);
        start_producer(&rs, s);
      }
    }
    int s = (int)(soak_rand(rng) % (uint64_t)pl->producers);
    if (rs.prod[s]) {
      mp_process_kill(rs.prod[s]);
      reap_producer(&rs, s, 1);
      start_producer(&rs, s);
    }
    if (pl->kill_consumers && mp__now() >= next_consumer_kill) {
      int c = (int)(soak_rand(rng) % (uint64_t)pl->consumers);
      if (rs.cons[c]) {
        mp_process_kill(rs.cons[c]);
        mp_process_join(rs.cons[c], 60);
        rs.cons[c] = mp_process_free(rs.cons[c]);
        rs.consumer_kills++;
      }
      rs.cons[c] = start(&rs, "consumer", NULL, 0);
      next_consumer_kill = mp__now() + soak_uniform(rng, 0.05, 0.3) * (cfg->reduced ? 5 : 1);
    }
  }
  /* The last kills: every producer still running. */
  for (int s = 0; s < pl->producers; s++) {
    if (!rs.prod[s]) continue;
    mp_process_kill(rs.prod[s]);
    reap_producer(&rs, s, 1);
  }
  drain(&rs);
  uint64_t before = t->messages, killed0 = t->producers_killed;
  check_round(&rs, t);
  t->consumers_killed += rs.consumer_kills;
  t->rounds++;
  printf("  round %llu, %s: %u incarnations, %llu producers killed, %llu consumers killed, %llu messages delivered\n",
         (unsigned long long)t->rounds, pl->what, rs.next_inc, (unsigned long long)(t->producers_killed - killed0),
         (unsigned long long)rs.consumer_kills, (unsigned long long)(t->messages - before));
  fflush(stdout);
done:
  watched = NULL;
  mp_queue_free(rs.q);
  mp_shm_free(rs.shm);
  free(rs.inc_state);
  free(rs.inc_count);
}

int main(int argc, char **argv) {
  MP_REGISTER(producer);
  MP_REGISTER(consumer);
  if (mp_main(argc, argv) != MP_OK) {
    fprintf(stderr, "mp_main: %s\n", mp_last_error());
    return 2;
  }
  soak_config cfg;
  int rc = soak_config_read(&cfg, "soak_queue");
  if (rc) return rc;
  soak_watchdog_start(&cfg, queue_progress, NULL);
  uint64_t rng = cfg.seed;
  totals t;
  memset(&t, 0, sizeof t);
  size_t nplans = sizeof plans / sizeof plans[0];
  /* Every kind of round at least once, each a share of the time, and none
   * so long that its table of incarnations fills up. */
  double round_seconds = cfg.seconds / (double)nplans;
  if (round_seconds < 2) round_seconds = 2;
  if (round_seconds > 20) round_seconds = 20;
  double start = mp__now();
  for (size_t r = 0; r < nplans || (mp__now() - start < cfg.seconds && !soak_failures()); r++) {
    if (soak_failures()) break;
    run_round(&cfg, &plans[r % nplans], round_seconds, &rng, &t);
  }
  soak_watchdog_stop();
  printf("soak_queue (%s): %llu rounds in %.0f s: %llu messages delivered whole; %llu producers killed (%llu of their "
         "messages in flight delivered, %llu not), %llu ran to the end; %llu consumers killed, %llu messages lost "
         "with them; %d failed checks\n",
         cfg.method, (unsigned long long)t.rounds, mp__now() - start, (unsigned long long)t.messages,
         (unsigned long long)t.producers_killed, (unsigned long long)t.in_flight_delivered,
         (unsigned long long)t.in_flight_lost, (unsigned long long)t.producers_finished,
         (unsigned long long)t.consumers_killed, (unsigned long long)t.lost_to_consumer_kills, soak_failures());
  if (!soak_failures() && t.producers_killed == 0) soak_fail("no producer was killed: the soak tested nothing");
  puts(soak_failures() ? "FAILED" : "PASSED");
  return soak_failures() ? 1 : 0;
}
