/* Pool torture: several caller threads at once, each submitting at random
 * (apply_async with and without callbacks, blocking maps, map_async, imap
 * freed half way or drained), with random argument sizes (0 B to 1 MiB),
 * random result sizes (0 B to 4 MiB), and items that succeed, fail, crash,
 * exit or overrun the pool's task_timeout; cancels at random moments; a
 * killer thread that kills random workers; and now and then one thread
 * terminates or closes the pool under the others and makes a new one.
 *
 * The ledger, checked item by item: every item has exactly one outcome,
 * and it is the true one. What it did decides what it must read: its
 * bytes (checked), MP_ETASK with its code and text, MP_ECRASHED with its
 * signal or exit code, MP_ETIMEDOUT; or, for reasons outside it,
 * MP_ECANCELLED (its job was cancelled, its pool terminated) or
 * MP_ECRASHED by signal 9 (the killer). An item read as anything but
 * cancelled ran exactly once (a counter per item in shared memory), a
 * cancelled one at most once, and every callback ran once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soak.h"

#define MAX_IDS ((uint32_t)1 << 22)
#define THREADS 3
#define TIMEOUT 0.3
enum { B_OK, B_FAIL, B_CRASH, B_EXIT, B_SLOW };

typedef struct shared {
  volatile uint32_t executed;
  volatile uint32_t runs[MAX_IDS];
} shared;

typedef struct targ {
  uint64_t id;
  uint32_t what;
  uint32_t result_len;
  uint64_t seed;
} targ;

static uint8_t byte_at(uint64_t seed, size_t i) { return (uint8_t)(seed >> (i % 5 * 8)) ^ (uint8_t)(i * 151); }

/* ---------------------------------------------------------------- task */
static int torture_item(mp_call *call) {
  shared *sh = mp_shm_ptr(mp_call_shm(call, 0));
  size_t len;
  const uint8_t *p = mp_call_arg(call, &len);
  targ a;
  if (!sh || len < sizeof a) return mp_call_fail(call, "short argument");
  memcpy(&a, p, sizeof a);
  for (size_t i = sizeof a; i < len; i++)
    if (p[i] != byte_at(a.seed, i)) return mp_call_fail(call, "torn argument %llu", (unsigned long long)a.id);
  mp__atomic_add32(&sh->runs[a.id % MAX_IDS], 1);
  mp__atomic_add32(&sh->executed, 1);
  switch (a.what) {
  case B_FAIL: mp_call_fail(call, "fail %llu", (unsigned long long)a.id); return 42;
  case B_CRASH: {
    volatile int *volatile nowhere = NULL;
    *nowhere = 1;
    return 0;
  }
  case B_EXIT: exit(5);
  case B_SLOW: mp__sleep(TIMEOUT * 3); break;
  default: break;
  }
  uint8_t *out = malloc(a.result_len ? a.result_len : 1);
  if (!out) return mp_call_fail(call, "no memory");
  memcpy(out, &a.id, a.result_len < 8 ? a.result_len : 8);
  for (size_t i = 8; i < a.result_len; i++) out[i] = byte_at(a.seed + 1, i);
  int rc = mp_call_return(call, out, a.result_len);
  free(out);
  return rc;
}

/* --------------------------------------------------------------- items */
typedef struct item {
  targ a;
  mp_slice s;
  uint8_t *bytes;
} item;

static volatile uint32_t next_id = 1;
static soak_config cfg;

static void item_make(item *it, uint64_t *rng) {
  uint64_t r = soak_rand(rng);
  it->a.id = mp__atomic_add32(&next_id, 1) % MAX_IDS;
  unsigned k = (unsigned)(r % 100);
  it->a.what = k < 80 ? B_OK : k < 88 ? B_FAIL : k < 93 ? B_CRASH : k < 96 ? B_EXIT : B_SLOW;
  if (cfg.reduced && it->a.what != B_OK && it->a.what != B_FAIL && (r >> 8) % 2) it->a.what = B_OK;
  /* Sizes: mostly small, now and then at and past the rings' sizes. */
  unsigned s = (unsigned)((r >> 16) % 100);
  size_t arg = s < 70 ? (size_t)(r >> 24) % 64 : s < 95 ? (size_t)(r >> 24) % 40000 : (size_t)(r >> 24) % (1u << 20);
  unsigned t = (unsigned)((r >> 40) % 100);
  it->a.result_len = (uint32_t)(t < 70 ? (r >> 48) % 64 : t < 97 ? (r >> 48) % 300000 : (r >> 44) % (4u << 20));
  if (cfg.reduced && it->a.result_len > (64u << 10)) it->a.result_len = 64u << 10;
  it->a.seed = soak_rand(rng);
  size_t len = sizeof it->a + arg;
  it->bytes = malloc(len);
  memcpy(it->bytes, &it->a, sizeof it->a);
  for (size_t i = sizeof it->a; i < len; i++) it->bytes[i] = byte_at(it->a.seed, i);
  it->s.data = it->bytes;
  it->s.len = len;
}

typedef struct ledger {
  volatile uint32_t items, ok, failed, crashed, timed_out, cancelled, killed;
} ledger;
static ledger book;
static shared *sh;

/* The one outcome of it, against what it did; `cancellable`: its job was
 * cancelled or its pool terminated (MP_ECANCELLED is then a true outcome). */
static void check(const item *it, const mp_result *r, int cancellable) {
  uint32_t runs = mp__atomic_load32(&sh->runs[it->a.id]);
  unsigned long long id = (unsigned long long)it->a.id;
  mp__atomic_add32(&book.items, 1);
  if (r->status == MP_ECANCELLED) {
    mp__atomic_add32(&book.cancelled, 1);
    if (!cancellable) soak_fail("item %llu: MP_ECANCELLED, but nobody cancelled it: %s", id, r->message);
    if (runs > 1) soak_fail("item %llu: cancelled after running %u times", id, runs);
    return;
  }
  if (r->status == MP_ECRASHED && r->message && strstr(r->message, "signal 9")) {
    /* The killer's: perhaps before its body counted the run. */
    mp__atomic_add32(&book.killed, 1);
    if (runs > 1) soak_fail("item %llu: killed after running %u times", id, runs);
    return;
  }
  if (runs != 1)
    soak_fail("item %llu (%u): %s after running %u times: %s", id, it->a.what, mp_err_name(r->status), runs,
              r->message ? r->message : "");
  switch (it->a.what) {
  case B_OK:
    if (r->status != MP_OK) {
      soak_fail("item %llu: %s: %s", id, mp_err_name(r->status), r->message ? r->message : "");
      return;
    }
    if (r->len != it->a.result_len) soak_fail("item %llu: %zu bytes, not %u", id, r->len, it->a.result_len);
    else if (r->len >= 8 && memcmp(r->data, &it->a.id, 8) != 0) soak_fail("item %llu: another item's result", id);
    else
      for (size_t i = 8; i < r->len; i++)
        if (((const uint8_t *)r->data)[i] != byte_at(it->a.seed + 1, i)) {
          soak_fail("item %llu: result torn at byte %zu", id, i);
          break;
        }
    mp__atomic_add32(&book.ok, 1);
    return;
  case B_FAIL:
    if (r->status != MP_ETASK || r->task_code != 42 || !r->message || !strstr(r->message, "fail "))
      soak_fail("item %llu: a failure read as %s (%d): %s", id, mp_err_name(r->status), r->task_code, r->message);
    mp__atomic_add32(&book.failed, 1);
    return;
  case B_CRASH:
  case B_EXIT:
    if (r->status != MP_ECRASHED || !r->message ||
        !strstr(r->message, it->a.what == B_EXIT ? "exited with code 5" : "signal"))
      soak_fail("item %llu: a %s read as %s: %s", id, it->a.what == B_EXIT ? "exit" : "crash", mp_err_name(r->status),
                r->message);
    mp__atomic_add32(&book.crashed, 1);
    return;
  default:
    if (r->status != MP_ETIMEDOUT) soak_fail("item %llu: an overrun read as %s: %s", id, mp_err_name(r->status), r->message);
    mp__atomic_add32(&book.timed_out, 1);
  }
}

/* ---------------------------------------------------------------- pool */
/* The pool, swapped now and then under the callers: they hold `users`
 * while they use it; the swapper waits for none. */
static struct {
  mp__mutex *lock;
  mp__cond *cond;
  mp_pool *pool;
  mp_shm *shm;
  int users, swapping;
  volatile uint32_t generation; /* bumped by every terminate */
} P;

static mp_pool *make_pool(uint64_t *rng) {
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = 1 + (int)(soak_rand(rng) % 4);
  o.task_timeout = TIMEOUT;
  o.max_tasks_per_child = soak_rand(rng) % 3 == 0 ? 50 : 0;
  mp_object *obj = mp_shm_obj(P.shm);
  o.objects = &obj;
  o.nobjects = 1;
  if (mp_pool_create(&p, &o) != MP_OK) soak_fail("mp_pool_create: %s", mp_last_error());
  return p;
}

static mp_pool *use_pool(uint32_t *gen) {
  mp__mutex_lock(P.lock);
  while (P.swapping) mp__cond_wait(P.cond, P.lock, MP_FOREVER);
  P.users++;
  *gen = P.generation;
  mp_pool *p = P.pool;
  mp__mutex_unlock(P.lock);
  return p;
}

static void done_with_pool(void) {
  mp__mutex_lock(P.lock);
  P.users--;
  mp__cond_broadcast(P.cond);
  mp__mutex_unlock(P.lock);
}

/* Terminate under the users, or close, then a fresh pool once they leave. */
static void swap_pool(uint64_t *rng) {
  int terminate = soak_rand(rng) % 2;
  if (terminate) {
    mp__atomic_add32(&P.generation, 1);
    mp_pool_terminate(P.pool);
  }
  mp__mutex_lock(P.lock);
  P.swapping = 1;
  while (P.users) mp__cond_wait(P.cond, P.lock, MP_FOREVER);
  mp_pool *old = P.pool;
  mp__mutex_unlock(P.lock);
  if (!terminate) mp_pool_close(old);
  if (mp_pool_join(old, 120) != MP_OK) soak_fail("mp_pool_join: %s", mp_last_error());
  mp_pool_free(old);
  mp_pool *fresh = make_pool(rng);
  mp__mutex_lock(P.lock);
  P.pool = fresh;
  P.swapping = 0;
  mp__cond_broadcast(P.cond);
  mp__mutex_unlock(P.lock);
}

/* ----------------------------------------------------------- callers */
static void counted(mp_async *a, void *ud) {
  (void)a;
  mp__atomic_add32((volatile uint32_t *)ud, 1);
}

typedef struct feed {
  item *items;
  size_t n;
} feed;

static int feed_next(void *ud, size_t index, mp_slice *s) {
  feed *f = ud;
  if (index >= f->n) return 0;
  *s = f->items[index].s;
  return 1;
}

static void one_round(uint64_t *rng, int may_swap) {
  uint32_t gen;
  mp_pool *p = use_pool(&gen);
  uint64_t r = soak_rand(rng);
  size_t n = 1 + (size_t)(r >> 8) % (cfg.reduced ? 20 : 120);
  item *items = calloc(n, sizeof *items);
  mp_result *out = calloc(n, sizeof *out);
  mp_slice *in = calloc(n, sizeof *in);
  for (size_t i = 0; i < n; i++) {
    item_make(&items[i], rng);
    in[i] = items[i].s;
  }
  unsigned kind = (unsigned)(r % 100);
  int cancelled = 0;
  size_t chunks[] = {1, 2, 5, 17, 0};
  mp_map_options mo = {0};
  mo.chunksize = chunks[(r >> 32) % 5];
  if (kind < 35) {
    /* apply_async, each with a handle, some with a callback, some cancelled */
    mp_async **jobs = calloc(n, sizeof *jobs);
    volatile uint32_t *calls = calloc(n, sizeof *calls);
    for (size_t i = 0; i < n; i++)
      if (mp_pool_apply_async(p, "torture_item", in[i].data, in[i].len, i % 3 ? counted : NULL, (void *)&calls[i],
                              &jobs[i]) != MP_OK)
        jobs[i] = NULL;
    if ((r >> 20) % 4 == 0) {
      mp__sleep(soak_uniform(rng, 0, 0.02));
      for (size_t i = 0; i < n; i += 2)
        if (jobs[i]) cancelled |= mp_async_cancel(jobs[i]) == MP_OK;
    }
    for (size_t i = 0; i < n; i++) {
      if (!jobs[i]) continue;
      if (mp_async_wait(jobs[i], 300) != MP_OK) soak_fail("apply_async: %s", mp_last_error());
      else check(&items[i], mp_async_result(jobs[i]), cancelled || P.generation != gen);
      if (i % 3 && mp__atomic_load32(&calls[i]) != 1) soak_fail("a callback ran %u times", calls[i]);
      mp_async_free(jobs[i]);
    }
    free(jobs);
    free((void *)calls);
  } else if (kind < 60) {
    if (mp_pool_map_slices(p, "torture_item", in, n, out, &mo) != MP_ESTATE)
      for (size_t i = 0; i < n; i++) check(&items[i], &out[i], P.generation != gen);
  } else if (kind < 80) {
    mp_async *a;
    volatile uint32_t calls = 0;
    if (mp_pool_map_async(p, "torture_item", in, n, &mo, counted, (void *)&calls, &a) == MP_OK) {
      if ((r >> 24) % 3 == 0) {
        mp__sleep(soak_uniform(rng, 0, 0.05));
        cancelled = mp_async_cancel(a) == MP_OK;
      }
      size_t got;
      if (mp_async_wait(a, 300) != MP_OK) soak_fail("map_async: %s", mp_last_error());
      const mp_result *rs = mp_async_results(a, &got);
      for (size_t i = 0; rs && i < got; i++) check(&items[i], &rs[i], cancelled || P.generation != gen);
      if (calls != 1) soak_fail("map_async's callback ran %u times", calls);
      mp_async_free(a);
    }
  } else if (kind < 95 || !may_swap) {
    feed f = {items, n};
    mp_imap_options io = {0};
    io.chunksize = 1 + (size_t)(r >> 40) % 4;
    io.unordered = (r >> 44) % 2;
    io.max_in_flight = 1 + (size_t)(r >> 46) % 16;
    mp_iter *it;
    if (mp_pool_imap(p, "torture_item", feed_next, &f, &io, &it) == MP_OK) {
      size_t stop = (r >> 50) % 4 == 0 ? (size_t)(r >> 52) % n : n, index, got = 0;
      mp_result res;
      int rc = MP_OK;
      unsigned char *seen = calloc(n, 1);
      while (got < stop && (rc = mp_iter_next(it, 300, &index, &res)) == MP_OK) {
        if (index >= n || seen[index]) soak_fail("imap: index %zu twice or out of range", index);
        else {
          seen[index] = 1;
          check(&items[index], &res, P.generation != gen);
        }
        mp_result_clear(&res);
        got++;
      }
      if (got < stop && rc != MP_ESTATE) soak_fail("imap: %s after %zu of %zu", mp_err_name(rc), got, n);
      if (rc == MP_ESTATE && P.generation == gen) soak_fail("imap: MP_ESTATE from a pool nobody stopped");
      free(seen);
      mp_iter_free(it);
    }
  }
  done_with_pool();
  if (kind >= 95 && may_swap) swap_pool(rng);
  for (size_t i = 0; i < n; i++) {
    mp_result_clear(&out[i]);
    free(items[i].bytes);
  }
  free(items);
  free(out);
  free(in);
}

static volatile uint32_t stop;

static void caller_main(void *arg) {
  uint64_t rng = soak_mix(cfg.seed + (uint64_t)(uintptr_t)arg * 7919) | 1;
  while (!mp__atomic_load32(&stop) && !soak_failures()) one_round(&rng, arg == NULL);
}

/* ------------------------------------------------------------- killer */
static void killer_main(void *arg) {
  uint64_t rng = soak_mix(cfg.seed ^ 0x6b696c6cu) | 1;
  int64_t kids[64];
  (void)arg;
  while (!mp__atomic_load32(&stop)) {
    mp__sleep(soak_uniform(&rng, cfg.reduced ? 0.3 : 0.02, cfg.reduced ? 1.0 : 0.2));
    size_t n = soak_children(kids, 64);
    if (n) soak_kill_ours(kids[soak_rand(&rng) % n]);
  }
}

static uint64_t progress(void *ud, char *state, size_t cap) {
  (void)ud;
  snprintf(state, cap, "%u items checked, %u task bodies run", book.items, sh->executed);
  return book.items;
}

int main(int argc, char **argv) {
  MP_REGISTER(torture_item);
  if (mp_main(argc, argv) != MP_OK) {
    fprintf(stderr, "mp_main: %s\n", mp_last_error());
    return 2;
  }
  int rc = soak_config_read(&cfg, "soak_torture");
  if (rc) return rc;
  if (mp_shm_create(&P.shm, sizeof(shared)) != MP_OK || mp__mutex_new(&P.lock) != MP_OK ||
      mp__cond_new(&P.cond) != MP_OK) {
    printf("FAIL: setup: %s\n", mp_last_error());
    return 1;
  }
  sh = mp_shm_ptr(P.shm);
  uint64_t rng = soak_mix(cfg.seed) | 1;
  P.pool = make_pool(&rng);
  soak_watchdog_start(&cfg, progress, NULL);
  mp__thread *callers[THREADS], *killer;
  double start = mp__now();
  for (uintptr_t i = 0; i < THREADS; i++) mp__thread_start(&callers[i], caller_main, (void *)i);
  mp__thread_start(&killer, killer_main, NULL);
  while (mp__now() - start < cfg.seconds && !soak_failures()) mp__sleep(0.1);
  mp__atomic_store32(&stop, 1);
  for (int i = 0; i < THREADS; i++) mp__thread_join(callers[i]);
  mp__thread_join(killer);
  soak_watchdog_stop();
  mp_pool_free(P.pool);
  mp_shm_free(P.shm);
  printf("soak_torture (%s): %u items in %.0f s: %u ok, %u failed, %u crashed or exited, %u timed out, %u cancelled, "
         "%u killed; %d failed checks\n",
         cfg.method, book.items, mp__now() - start, book.ok, book.failed, book.crashed, book.timed_out, book.cancelled,
         book.killed, soak_failures());
  if (!soak_failures() && book.items == 0) soak_fail("nothing was checked: the soak tested nothing");
  puts(soak_failures() ? "FAILED" : "PASSED");
  return soak_failures() ? 1 : 0;
}
