/* Pool under pressure: a threaded parent replacing workers a thousand
 * times by fork, and imap over ten million items in flat memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "testutil.h"

static int square(mp_call *call) {
  int64_t x;
  if (mp_call_arg_read(call, &x, sizeof x) != MP_OK) return mp_call_fail(call, "want 8 bytes");
  x *= x;
  return mp_call_return(call, &x, sizeof x);
}

/* ------------------------------------------- threaded parent, many forks */
/* A parent thread that keeps taking the locks a forked child could need
 * (malloc's, stdio's): if the pool forked while holding one of its own
 * locks, or the child needed one this thread held, a worker would hang. */
/* The builds whose malloc is a sanitizer's own allocator. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZER_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZER_MALLOC 1
#endif
#endif
#ifndef SANITIZER_MALLOC
#define SANITIZER_MALLOC 0
#endif

typedef struct busy {
  volatile uint32_t stop; /* atomic: the test thread sets it while this one reads */
  int malloc_too;         /* set before the thread starts */
  uint64_t rounds;        /* this thread's own; read after the join */
} busy;

static void keep_busy(void *arg) {
  busy *b = arg;
  char line[128];
  while (!mp__atomic_load32(&b->stop)) {
    void *p = b->malloc_too ? malloc(64 + (size_t)(b->rounds % 4096)) : line;
    snprintf(line, sizeof line, "round %llu %p", (unsigned long long)b->rounds, p);
    if (p != line) free(p);
    b->rounds++;
  }
}

static void threaded_parent_survives_many_replacements(void **state) {
  (void)state;
  /* fork where there is one: that is the method the caveat is about. */
  /* Under the sanitizers every start and every malloc of the busy thread
   * costs ten times as much: the same test, a fifth of the rounds. */
  int replacements = tu_light() ? 50 : tu_sanitized() ? 200 : 1000;
  /* Not malloc under ASan or TSan: their allocators (GCC 12's runtimes)
   * are not locked around fork, so a child that needs a fresh chunk while
   * this thread holds that lock hangs, whatever mproc does (seen under
   * ASan, about 1 run in 8: the calloc inside the child's pthread_create of
   * its parent watcher; under TSan, 1 run in 5). glibc makes its own malloc
   * safe across fork, and the native runs test that. */
  busy b = {0, !SANITIZER_MALLOC, 0};
  mp__thread *t;
  TU_CHECK(mp__thread_start(&t, keep_busy, &b), MP_OK);
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = 2;
  o.start_method = MP__HAVE_FORK ? MP_START_FORK : MP_START_SPAWN;
  o.max_tasks_per_child = 1; /* every chunk ends its worker: one start per task */
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  int64_t *in = malloc((size_t)replacements * sizeof *in), *out = malloc((size_t)replacements * sizeof *out);
  for (int i = 0; i < replacements; i++) in[i] = i;
  mp_map_options mo = {0};
  mo.chunksize = 1;
  double t0 = mp__now();
  TU_CHECK(mp_pool_map(p, "square", in, sizeof *in, (size_t)replacements, out, sizeof *out, &mo), MP_OK);
  double took = mp__now() - t0;
  for (int i = 0; i < replacements; i++) assert_true(out[i] == in[i] * in[i]);
  mp_pool_free(p);
  mp__atomic_store32(&b.stop, 1);
  mp__thread_join(t);
  print_message("%d worker replacements in %.2f s while a parent thread ran %llu malloc/printf rounds\n",
                replacements, took, (unsigned long long)b.rounds);
  free(in);
  free(out);
}

/* ------------------------------------------------ imap over 10 M items */
typedef struct numbers {
  size_t limit;
  int64_t value;
} numbers;

static int next_number(void *ud, size_t index, mp_slice *item) {
  numbers *n = ud;
  if (index >= n->limit) return 0;
  n->value = (int64_t)index;
  item->data = &n->value;
  item->len = sizeof n->value;
  return 1;
}

static void imap_of_ten_million_items_in_flat_memory(void **state) {
  (void)state;
  size_t total = tu_light() ? 100000 : tu_sanitized() ? 1000000 : 10000000;
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = 2;
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  for (int unordered = 0; unordered < 2; unordered++) {
    numbers n = {total, 0};
    mp_imap_options io = {0};
    io.chunksize = 1000;
    io.unordered = unordered;
    mp_iter *it;
    TU_CHECK(mp_pool_imap(p, "square", next_number, &n, &io, &it), MP_OK);
    size_t count = 0, index;
    uint64_t sum_index = 0, rss_early = 0;
    mp_result r;
    int rc;
    double t0 = mp__now();
    while ((rc = mp_iter_next(it, 60, &index, &r)) == MP_OK) {
      if (!unordered && index != count) {
        print_error("out of order: %llu where %llu belongs\n", (unsigned long long)index, (unsigned long long)count);
        fail();
      }
      if (r.status != MP_OK || r.len != 8 || *(int64_t *)r.data != (int64_t)index * (int64_t)index) {
        print_error("item %llu: %s\n", (unsigned long long)index, mp_err_name(r.status));
        fail();
      }
      sum_index += index;
      mp_result_clear(&r);
      if (++count == n.limit / 10) rss_early = tu_peak_rss();
    }
    TU_CHECK(rc, MP_ECLOSED);
    assert_int_equal(count, n.limit);
    assert_true(sum_index == (uint64_t)n.limit * (n.limit - 1) / 2); /* each exactly once */
    uint64_t rss_late = tu_peak_rss();
    print_message("imap%s of %llu items: %.2f s, peak RSS %.1f MiB after a tenth, %.1f MiB at the end\n",
                  unordered ? "_unordered" : "", (unsigned long long)n.limit, mp__now() - t0,
                  (double)rss_early / 1048576.0, (double)rss_late / 1048576.0);
    if (!tu_sanitized() && !tu_under_valgrind() && rss_early) {
      /* Flat: the last nine tenths cost (almost) nothing more. */
      assert_true(rss_late < rss_early + ((uint64_t)8 << 20));
      assert_true(rss_late < ((uint64_t)64 << 20));
    }
    mp_iter_free(it);
  }
  mp_pool_free(p);
}

int main(int argc, char **argv) {
  MP_REGISTER(square);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(threaded_parent_survives_many_replacements),
      TU_TEST(imap_of_ten_million_items_in_flat_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
