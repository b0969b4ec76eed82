/* Pool soak: maps of 200 000 tasks (fixed-size, variable-size up to
 * 256 KiB, and through imap, ordered and not) while a killer thread sends
 * SIGKILL (TerminateProcess on Windows) to a random worker every few
 * milliseconds.
 *
 * The promise under test: every item ends exactly once, with its correct
 * result or with MP_ECRASHED (its worker was killed while running it);
 * none is lost, none is delivered or run twice, and the map never hangs.
 *
 * How the killer finds workers, which the pool does not name: each worker
 * writes its pid into a table in shared memory (slot = its worker id) when
 * its initializer runs and again with every task; the killer takes a pid
 * from a random slot, clears the slot, and kills the pid only if it is
 * still a live child of ours (soak_kill_ours). On Linux one kill in eight
 * instead picks any child from /proc, which reaches workers that are still
 * starting and have published nothing.
 *
 * How "exactly once" is seen: each task body adds one to its item's count
 * in shared memory. An item read as MP_OK must have run exactly once and
 * carry the reply for its own index; one read as MP_ECRASHED ran at most
 * once; no item may be left without an outcome (the pool's per-item
 * results start zeroed, and a reply carries a tag that only a delivery
 * writes); a progress callback never reports more outcomes than items. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soak.h"

enum { MAX_WORKERS = 8 };
#define REPLY_TAG 0x5245504C59000000ull /* "REPLY" */
#define BIG_MIN (64u << 10)             /* over a pipe buffer: kills land mid-write */
#define BIG_MAX (256u << 10)

typedef struct pool_shared {
  volatile uint64_t pids[MAX_WORKERS]; /* worker id -> pid */
  volatile uint32_t executed;          /* task bodies begun: the watchdog's pulse */
  volatile uint32_t pad;
  volatile uint32_t runs[];            /* per item of the current map */
} pool_shared;

typedef struct item {
  uint64_t key;       /* the reply's value derives from it */
  uint32_t spin_us;   /* busy time, so kills land mid-task */
  uint32_t reply_len; /* variable-size round: bytes to return */
  uint64_t sum;       /* variable-size round: checksum of the filler after the item */
} item;

typedef struct reply {
  uint64_t tag;   /* REPLY_TAG ^ index: only a delivery writes it */
  uint64_t value; /* soak_mix(key) */
  uint64_t sum;   /* checksum of the filler after the reply, if any */
} reply;

/* Bytes both sides can regenerate from a key. */
static void fill(unsigned char *p, size_t n, uint64_t key) {
  for (size_t i = 0; i < n; i++) p[i] = (unsigned char)((key >> (i % 7 * 8)) + i * 131);
}

/* ------------------------------------------------------------ tasks */
static void publish_pid(mp_call *call) {
  pool_shared *sh = mp_shm_ptr(mp_call_shm(call, 0));
  int w = mp_call_worker_id(call);
  uint64_t me = (uint64_t)mp_getpid();
  if (sh && w >= 0 && w < MAX_WORKERS && mp__atomic_load64(&sh->pids[w]) != me) mp__atomic_store64(&sh->pids[w], me);
}

static int soak_init(mp_call *call) {
  publish_pid(call);
  return 0;
}

static int soak_item(mp_call *call) {
  pool_shared *sh = mp_shm_ptr(mp_call_shm(call, 0));
  size_t len, index = mp_call_index(call);
  const unsigned char *arg = mp_call_arg(call, &len);
  item it;
  if (!sh || len < sizeof it) return mp_call_fail(call, "item %zu: %zu bytes", index, len);
  memcpy(&it, arg, sizeof it);
  publish_pid(call);
  mp__atomic_add32(&sh->runs[index], 1);
  mp__atomic_add32(&sh->executed, 1);
  if (len > sizeof it && soak_checksum(arg + sizeof it, len - sizeof it, it.key) != it.sum)
    return mp_call_fail(call, "item %zu: its argument arrived torn", index);
  if (it.spin_us) {
    double end = mp__now() + it.spin_us * 1e-6;
    while (mp__now() < end) {
    }
  }
  reply r = {REPLY_TAG ^ index, soak_mix(it.key), 0};
  if (it.reply_len <= sizeof r) return mp_call_return(call, &r, sizeof r);
  unsigned char *out = malloc(it.reply_len);
  if (!out) return mp_call_fail(call, "out of memory");
  fill(out + sizeof r, it.reply_len - sizeof r, it.key);
  r.sum = soak_checksum(out + sizeof r, it.reply_len - sizeof r, it.key);
  memcpy(out, &r, sizeof r);
  int rc = mp_call_return(call, out, it.reply_len);
  free(out);
  return rc;
}

/* ------------------------------------------------------------ killer */
typedef struct killer {
  pool_shared *sh;
  volatile uint32_t stop;
  volatile uint32_t workers; /* slots of the pool now running; 0: hold fire */
  volatile uint32_t kills;
  uint64_t rng;
  double lo, hi;             /* seconds between kills */
  double until;              /* no kills after this: the round under way
                                then ends in seconds, so the time is kept */
} killer;

static void killer_main(void *arg) {
  killer *k = arg;
  int64_t kids[64];
  while (!mp__atomic_load32(&k->stop)) {
    mp__sleep(soak_uniform(&k->rng, k->lo, k->hi));
    uint32_t nw = mp__atomic_load32(&k->workers);
    if (!nw || mp__now() > k->until) continue;
    uint64_t r = soak_rand(&k->rng);
    int64_t pid = 0;
    if (r % 8 == 0) {
      size_t n = soak_children(kids, 64);
      if (n) pid = kids[(r >> 8) % n];
    }
    if (!pid) {
      volatile uint64_t *slot = &k->sh->pids[(r >> 16) % nw];
      pid = (int64_t)mp__atomic_load64(slot);
      /* Cleared so the same pid is not aimed at again; a worker that
       * races us here publishes itself again with its next task. */
      if (pid) mp__atomic_store64(slot, 0);
    }
    if (pid && soak_kill_ours(pid)) mp__atomic_add32(&k->kills, 1);
  }
}

/* ------------------------------------------------------------ rounds */
typedef struct plan {
  const char *what;
  int workers;
  size_t chunksize;
  unsigned max_tasks; /* workers also end by themselves: replacement churn */
  int slices;         /* variable-size items and replies, some over a pipe buffer */
  int progress;       /* a progress callback: completion goes through the scheduler */
  int imap;           /* 1: mp_pool_imap; 2: unordered */
} plan;

static const plan plans[] = {
    {"fixed map, chunksize 1", 4, 1, 0, 0, 0, 0},
    {"fixed map, chunksize 16, progress callback", 3, 16, 0, 0, 1, 0},
    {"variable sizes, 1/100 over 64 KiB", 3, 1, 0, 1, 0, 0},
    {"imap, chunksize 4", 3, 4, 0, 0, 0, 1},
    {"fixed map, chunksize 100", 2, 100, 0, 0, 0, 0},
    {"fixed map, chunksize 1, max_tasks_per_child 2000", 4, 1, 2000, 0, 0, 0},
    {"imap_unordered, chunksize 1", 4, 1, 0, 0, 0, 2},
};

typedef struct totals {
  uint64_t tasks, ok, crashed, other, kills, rounds;
} totals;

typedef struct progress_seen {
  size_t last, total;
  int went_back, over;
} progress_seen;

static void on_progress(size_t done, size_t total, void *ud) {
  progress_seen *s = ud;
  if (done < s->last) s->went_back = 1;
  if (done > total || total != s->total) s->over = 1;
  s->last = done;
}

/* Shared by the main thread and the watchdog. */
static struct {
  killer *k;
  volatile uint32_t round;
  volatile uint32_t maps_done;
  size_t n;
} now_running;

static uint64_t pool_progress(void *ud, char *state, size_t cap) {
  (void)ud;
  pool_shared *sh = now_running.k->sh;
  uint32_t executed = mp__atomic_load32(&sh->executed);
  snprintf(state, cap, "round %u (%zu items): %u task bodies run so far, %u kills", mp__atomic_load32(&now_running.round),
           now_running.n, executed, mp__atomic_load32(&now_running.k->kills));
  return ((uint64_t)mp__atomic_load32(&now_running.maps_done) << 32) + executed;
}

/* The checks for item i; counts the outcome. Its reply is fixed[i], or
 * (fixed NULL) the result's own bytes. */
static void check_item(const plan *pl, pool_shared *sh, size_t i, const mp_result *res, const reply *fixed,
                       const item *in, totals *t) {
  uint32_t runs = mp__atomic_load32(&sh->runs[i]);
  if (res->status == MP_ECRASHED) {
    t->crashed++;
    if (runs > 1) soak_fail("item %zu: MP_ECRASHED after running %u times", i, runs);
    if (!res->message || !strstr(res->message, "signal 9"))
      soak_fail("item %zu: MP_ECRASHED, but not by our kill: %s", i, res->message ? res->message : "(no message)");
    return;
  }
  if (res->status != MP_OK) {
    t->other++;
    soak_fail("item %zu: %s: %s", i, mp_err_name(res->status), res->message ? res->message : "(no message)");
    return;
  }
  reply r;
  if (!fixed) {
    if (!res->data || res->len < sizeof r) {
      t->other++;
      soak_fail("item %zu: no reply (%zu bytes): lost", i, res->len);
      return;
    }
    memcpy(&r, res->data, sizeof r);
  } else {
    r = fixed[i];
  }
  t->ok++;
  if (r.tag != (REPLY_TAG ^ i)) {
    soak_fail("item %zu: MP_OK but its reply is missing or another item's (tag %llx): lost", i,
              (unsigned long long)r.tag);
    return;
  }
  if (r.value != soak_mix(in->key)) soak_fail("item %zu: wrong value", i);
  if (runs != 1) soak_fail("item %zu: MP_OK, but its task ran %u times", i, runs);
  if (pl->slices) {
    size_t want = in->reply_len > sizeof r ? in->reply_len : sizeof r;
    if (res->len != want) soak_fail("item %zu: reply of %zu bytes, not %zu", i, res->len, want);
    else if (want > sizeof r &&
             soak_checksum((const unsigned char *)res->data + sizeof r, want - sizeof r, in->key) != r.sum)
      soak_fail("item %zu: its reply arrived torn", i);
  }
}

/* imap's input: the items, pulled by index. */
typedef struct feed {
  const item *items;
  size_t n;
} feed;

static int feed_next(void *ud, size_t index, mp_slice *s) {
  const feed *f = ud;
  if (index >= f->n) return 0;
  s->data = &f->items[index];
  s->len = sizeof f->items[index];
  return 1;
}

/* imap: every index once (in order unless unordered) and never a wait
 * without end; each outcome lands in res[index] for the common checks,
 * and one that never comes shows there as lost. */
static void collect_imap(const plan *pl, mp_pool *p, size_t n, const item *items, mp_result *res) {
  feed f = {items, n};
  mp_imap_options io = {0};
  io.chunksize = pl->chunksize;
  io.unordered = pl->imap == 2;
  mp_iter *it = NULL;
  unsigned char *seen = calloc(n, 1);
  int rc = seen ? mp_pool_imap(p, "soak_item", feed_next, &f, &io, &it) : MP_ENOMEM;
  if (rc != MP_OK) {
    soak_fail("mp_pool_imap: %s", mp_last_error());
    free(seen);
    return;
  }
  size_t count = 0, index = 0;
  mp_result r;
  /* Two minutes for one result is a hang, kills or not. */
  while ((rc = mp_iter_next(it, 120, &index, &r)) == MP_OK) {
    if (index >= n) {
      soak_fail("imap gave index %zu of %zu", index, n);
    } else if (seen[index]) {
      soak_fail("imap gave item %zu twice", index);
    } else {
      if (!io.unordered && index != count) soak_fail("imap gave item %zu where %zu belongs", index, count);
      seen[index] = 1;
      res[index] = r;
      memset(&r, 0, sizeof r);
    }
    mp_result_clear(&r);
    count++;
  }
  if (rc != MP_ECLOSED) soak_fail("mp_iter_next after %zu results: %s: %s", count, mp_err_name(rc), mp_last_error());
  mp_iter_free(it);
  free(seen);
}

/* The round's inputs: fixed items in one array, or slices with filler. */
typedef struct inputs {
  item *items;
  mp_slice *slices;
  unsigned char **bufs;
} inputs;

static int make_inputs(const plan *pl, size_t n, uint64_t *rng, inputs *in) {
  memset(in, 0, sizeof *in);
  if (!(in->items = calloc(n, sizeof *in->items))) return 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t r = soak_rand(rng);
    in->items[i].key = r;
    in->items[i].spin_us = r % 100 == 0 ? 100 + (uint32_t)(r >> 40) % 400 : (uint32_t)(r >> 32) % 3;
  }
  if (!pl->slices) return 1;
  if (!(in->slices = calloc(n, sizeof *in->slices)) || !(in->bufs = calloc(n, sizeof *in->bufs))) return 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t r = soak_rand(rng);
    item *it = &in->items[i];
    size_t filler = r % 100 == 0 ? BIG_MIN + (size_t)(r >> 20) % (BIG_MAX - BIG_MIN) : (size_t)(r >> 8) % 200;
    it->reply_len = (r >> 4) % 100 == 1 ? BIG_MIN + (uint32_t)(r >> 36) % (BIG_MAX - BIG_MIN)
                                         : (uint32_t)sizeof(reply) + (uint32_t)(r >> 50) % 200;
    if (!(in->bufs[i] = malloc(sizeof *it + filler))) return 0;
    fill(in->bufs[i] + sizeof *it, filler, it->key);
    it->sum = filler ? soak_checksum(in->bufs[i] + sizeof *it, filler, it->key) : 0;
    memcpy(in->bufs[i], it, sizeof *it);
    in->slices[i].data = in->bufs[i];
    in->slices[i].len = sizeof *it + filler;
  }
  return 1;
}

static void free_inputs(inputs *in, size_t n) {
  for (size_t i = 0; in->bufs && i < n; i++) free(in->bufs[i]);
  free(in->bufs);
  free(in->slices);
  free(in->items);
}

static void run_round(const plan *pl, size_t n, killer *k, mp_shm *shm, uint64_t *rng, totals *t) {
  pool_shared *sh = mp_shm_ptr(shm);
  memset((void *)sh->runs, 0, n * sizeof sh->runs[0]);
  for (int w = 0; w < MAX_WORKERS; w++) mp__atomic_store64(&sh->pids[w], 0);
  inputs in;
  memset(&in, 0, sizeof in);
  reply *out = calloc(n, sizeof *out);
  mp_result *res = calloc(n, sizeof *res);
  if (!out || !res || !make_inputs(pl, n, rng, &in)) {
    soak_fail("out of memory for %zu items", n);
    free(out);
    free(res);
    free_inputs(&in, n);
    return;
  }
  mp_object *objs[1] = {mp_shm_obj(shm)};
  mp_pool_options o = {0};
  o.workers = pl->workers;
  o.initializer = "soak_init";
  o.max_tasks_per_child = pl->max_tasks;
  o.objects = objs;
  o.nobjects = 1;
  mp_pool *p = NULL;
  uint32_t kills0 = mp__atomic_load32(&k->kills);
  double t0 = mp__now();
  /* Fire from the start: a worker killed while the pool is being made
   * (the /proc picks reach it) is buried and replaced like any other. */
  mp__atomic_store32(&k->workers, (uint32_t)pl->workers);
  int rc = mp_pool_create(&p, &o);
  if (rc != MP_OK) {
    soak_fail("mp_pool_create with workers being killed: %s", mp_last_error());
  } else {
    progress_seen ps = {0, n, 0, 0};
    mp_map_options mo = {0};
    mo.chunksize = pl->chunksize;
    mo.results = pl->slices ? NULL : res;
    if (pl->progress) {
      mo.progress = on_progress;
      mo.progress_ud = &ps;
    }
    if (pl->imap)
      collect_imap(pl, p, n, in.items, res);
    else if (pl->slices)
      rc = mp_pool_map_slices(p, "soak_item", in.slices, n, res, &mo);
    else
      rc = mp_pool_map(p, "soak_item", in.items, sizeof *in.items, n, out, sizeof *out, &mo);
    /* And while it winds down: close, then join must come back. */
    int crc = mp_pool_close(p);
    if (crc == MP_OK) crc = mp_pool_join(p, 120);
    if (crc != MP_OK) soak_fail("close and join with workers being killed: %s: %s", mp_err_name(crc), mp_last_error());
    mp__atomic_add32(&now_running.maps_done, 1);
    double dt = mp__now() - t0;
    uint32_t kills = mp__atomic_load32(&k->kills) - kills0;
    totals before = *t;
    int want = MP_OK;
    for (size_t i = 0; i < n; i++) {
      if (want == MP_OK && res[i].status != MP_OK) want = res[i].status;
      check_item(pl, sh, i, &res[i], pl->slices || pl->imap ? NULL : out, &in.items[i], t);
      mp_result_clear(&res[i]);
    }
    if (!pl->imap && rc != want) soak_fail("the map returned %s; its first failed item says %s", mp_err_name(rc), mp_err_name(want));
    if (pl->progress && (ps.went_back || ps.over || ps.last != n))
      soak_fail("progress: last report %zu of %zu%s%s", ps.last, n, ps.went_back ? ", went backwards" : "",
                ps.over ? ", over the total" : "");
    t->tasks += n;
    t->kills += kills;
    t->rounds++;
    printf("  round %llu, %s, %d workers: %zu tasks in %.1f s, %u kills: %llu ok, %llu MP_ECRASHED\n",
           (unsigned long long)t->rounds, pl->what, pl->workers, n, dt, kills,
           (unsigned long long)(t->ok - before.ok), (unsigned long long)(t->crashed - before.crashed));
    fflush(stdout);
  }
  mp__atomic_store32(&k->workers, 0);
  mp_pool_free(p);
  free(out);
  free(res);
  free_inputs(&in, n);
}

int main(int argc, char **argv) {
  MP_REGISTER(soak_init);
  MP_REGISTER(soak_item);
  if (mp_main(argc, argv) != MP_OK) {
    fprintf(stderr, "mp_main: %s\n", mp_last_error());
    return 2;
  }
  soak_config cfg;
  int rc = soak_config_read(&cfg, "soak_pool");
  if (rc) return rc;
  /* Wine starts a process some fifty times slower than Linux: a tenth of
   * the items, and kills ten times further apart, keep a round in the
   * tens of seconds there. */
  size_t n_fixed = cfg.reduced ? 20000 : 200000, n_slices = cfg.reduced ? 2000 : 20000;
  mp_shm *shm = NULL;
  if (mp_shm_create(&shm, sizeof(pool_shared) + n_fixed * sizeof(uint32_t)) != MP_OK) {
    printf("FAIL: mp_shm_create: %s\n", mp_last_error());
    return 1;
  }
  killer k;
  memset(&k, 0, sizeof k);
  k.sh = mp_shm_ptr(shm);
  k.rng = soak_mix(cfg.seed) | 1;
  k.lo = cfg.reduced ? 0.02 : 0.001;
  k.hi = cfg.reduced ? 0.06 : 0.005;
  k.until = mp__now() + cfg.seconds;
  mp__thread *kt;
  if (mp__thread_start(&kt, killer_main, &k) != MP_OK) {
    printf("FAIL: killer thread: %s\n", mp_last_error());
    return 1;
  }
  now_running.k = &k;
  soak_watchdog_start(&cfg, pool_progress, NULL);
  uint64_t rng = cfg.seed;
  totals t;
  memset(&t, 0, sizeof t);
  double start = mp__now();
  /* The first round always runs whole: the 200 000-task map is the point. */
  for (size_t r = 0; r == 0 || (mp__now() - start < cfg.seconds && !soak_failures()); r++) {
    const plan *pl = &plans[r % (sizeof plans / sizeof plans[0])];
    size_t n = pl->slices ? n_slices : n_fixed;
    now_running.n = n;
    mp__atomic_store32(&now_running.round, (uint32_t)r + 1);
    run_round(pl, n, &k, shm, &rng, &t);
  }
  soak_watchdog_stop();
  mp__atomic_store32(&k.stop, 1);
  mp__thread_join(kt);
  mp_shm_free(shm);
  printf("soak_pool (%s): %llu tasks in %llu rounds and %.0f s, %llu workers killed; outcomes: %llu ok, %llu MP_ECRASHED, "
         "%llu other; %d failed checks\n",
         cfg.method, (unsigned long long)t.tasks, (unsigned long long)t.rounds, mp__now() - start, (unsigned long long)t.kills,
         (unsigned long long)t.ok, (unsigned long long)t.crashed, (unsigned long long)t.other, soak_failures());
  if (!soak_failures() && t.kills == 0) soak_fail("no worker was killed: the soak tested nothing");
  puts(soak_failures() ? "FAILED" : "PASSED");
  return soak_failures() ? 1 : 0;
}
