/* pool_attack_imap: imap, ordered and unordered, chunks of 1, 3 and 8, a
 * producer that ends or fails (-77) part way: results in input order
 * (ordered), each input's once, none lost; each item started once and none
 * past the failure; the failure returned once the results before it are
 * out, and again after; the producer runs on the caller's thread, asked for
 * each index once, in sequence; no more inputs taken ahead than
 * max_in_flight allows (and a chunk or two). mp_iter_free part way never
 * blocks and no item starts after it; the pool then still works. An imap
 * made before mp_pool_close goes on to its end, join waits for it, an imap
 * after close is MP_ESTATE. usage: pool_attack_imap WORKERS */
#include "pool_attack.h"

typedef struct prod {
  int n, fail_at, produced, wrong_thread, dup_index;
  uint64_t th;
  op cur;
} prod;
static prod mkprod(int n, int fail_at) {
  prod pr;
  memset(&pr, 0, sizeof pr);
  pr.n = n;
  pr.fail_at = fail_at;
  pr.th = thread_id();
  return pr;
}
static int producer(void *ud, size_t index, mp_slice *item) {
  prod *pr = (prod *)ud;
  if (thread_id() != pr->th)
    pr->wrong_thread++;
  if ((int)index != pr->produced)
    pr->dup_index++;
  if ((int)index == pr->fail_at)
    return -77;
  if ((int)index >= pr->n)
    return 0;
  pr->produced++;
  pr->cur = mkop((int)index, A_OK, (double)(index * 7919 % 13) / 1000.0, 8);
  *item = mkslice(&pr->cur, sizeof pr->cur);
  return 1;
}
/* Slack for an item's body that started before the free took effect but
 * read the clock later (a loaded machine, Wine). */
#define SLACK 0.1

int main(int argc, char **argv) {
  PA_BOOT("pool_attack_imap", 120);
  int W = argc > 1 ? atoi(argv[1]) : 2;
  size_t CS[] = {1, 3, 8};
  mp_pool *p = NULL;
  if (mkpool(&p, W, 0, 0, NULL, NULL, 0))
    PA_DONE();
  for (int ci = 0; ci < 3; ci++)
    for (int uo = 0; uo < 2; uo++)
      for (int fail = 0; fail < 2; fail++) {
        enum { N = 80, FAIL_AT = 50 };
        char ph[64];
        snprintf(ph, sizeof ph, "w=%d cs=%zu unordered=%d fail=%d", W, CS[ci], uo, fail);
        PHASE(ph);
        ledger_reset();
        prod pr = mkprod(N, fail ? FAIL_AT : -1);
        mp_imap_options io;
        memset(&io, 0, sizeof io);
        io.chunksize = CS[ci];
        io.unordered = uo;
        io.max_in_flight = 10;
        mp_iter *it = NULL;
        int rc = mp_pool_imap(p, "t_op", producer, &pr, &io, &it);
        CHECK(rc == MP_OK, "%s: imap %s", ph, mp_err_name(rc));
        if (rc != MP_OK)
          continue;
        int seen[N], got = 0, maxahead = 0, expect = 0;
        memset(seen, 0, sizeof seen);
        size_t idx = 0;
        mp_result r;
        memset(&r, 0, sizeof r);
        for (;;) {
          rc = mp_iter_next(it, 30, &idx, &r);
          if (rc != MP_OK)
            break;
          CHECK(idx < N, "%s: index %zu", ph, idx);
          if (idx < N)
            seen[idx]++;
          if (!uo) {
            CHECK((int)idx == expect, "%s: order: got %zu, expected %d", ph, idx, expect);
            expect = (int)idx + 1;
          }
          CHECK(check_result(&r, (int)idx), "%s: result %zu %s", ph, idx, mp_err_name(r.status));
          mp_result_clear(&r);
          got++;
          if (pr.produced - got > maxahead)
            maxahead = pr.produced - got;
        }
        int lim = fail ? FAIL_AT : N;
        if (fail)
          CHECK(rc == -77, "%s: producer failure: rc %s (%d), got %d", ph, mp_err_name(rc), rc, got);
        else
          CHECK(rc == MP_ECLOSED, "%s: end rc %s", ph, mp_err_name(rc));
        CHECK(got == lim, "%s: got %d of %d", ph, got, lim);
        for (int i = 0; i < lim; i++) {
          CHECK(seen[i] == 1, "%s: item %d seen %d times", ph, i, seen[i]);
          CHECK(ld(&g_slots[i].starts) == 1, "%s: item %d started %d times", ph, i, ld(&g_slots[i].starts));
        }
        for (int i = lim; i < N; i++)
          CHECK(ld(&g_slots[i].starts) == 0, "%s: item %d past the failure ran", ph, i);
        rc = mp_iter_next(it, 0, &idx, &r);
        CHECK(rc == MP_ECLOSED || (fail && rc == -77), "%s: next after the end: %s (%d)", ph, mp_err_name(rc), rc);
        CHECK(!pr.wrong_thread, "%s: producer ran on another thread %d times", ph, pr.wrong_thread);
        CHECK(!pr.dup_index, "%s: producer's index out of sequence %d times", ph, pr.dup_index);
        CHECK(maxahead <= 10 + 2 * (int)CS[ci] + 1, "%s: back-pressure: %d ahead with max_in_flight 10", ph, maxahead);
        if (ci == 0 && uo == 0 && fail == 0)
          infof("w=%d maxahead=%d", W, maxahead);
        it = mp_iter_free(it);
      }
  /* free part way */
  for (int ci = 0; ci < 3; ci++) {
    enum { NF = 400 };
    char ph[64];
    snprintf(ph, sizeof ph, "iter_free w=%d cs=%zu", W, CS[ci]);
    PHASE(ph);
    ledger_reset();
    prod pr = mkprod(NF, -1);
    mp_imap_options io;
    memset(&io, 0, sizeof io);
    io.chunksize = CS[ci];
    mp_iter *it = NULL;
    int rc = mp_pool_imap(p, "t_op", producer, &pr, &io, &it);
    CHECK(rc == MP_OK, "%s: imap %s", ph, mp_err_name(rc));
    if (rc != MP_OK)
      continue;
    mp_result r;
    memset(&r, 0, sizeof r);
    for (int k = 0; k < 5; k++) {
      rc = mp_iter_next(it, 30, NULL, &r);
      CHECK(rc == MP_OK, "%s: next %d: %s", ph, k, mp_err_name(rc));
      mp_result_clear(&r);
    }
    double t0 = now_s();
    it = mp_iter_free(it);
    double t1 = now_s();
    CHECK(t1 - t0 < 2, "%s: mp_iter_free (never blocks) took %.3f s", ph, t1 - t0);
    int snap[NF];
    for (int i = 0; i < NF; i++)
      snap[i] = ld(&g_slots[i].starts);
    sleep_s(0.5);
    int late = 0, total = 0;
    for (int i = 0; i < NF; i++) {
      int st = ld(&g_slots[i].starts);
      if (st) {
        total++;
        if (g_slots[i].t_start > t1 + SLACK || st > snap[i])
          late++;
      }
      CHECK(st <= 1, "%s: item %d started %d times", ph, i, st);
    }
    CHECK(late == 0, "%s: %d items started after mp_iter_free (of %d started, %d produced)", ph, late, total,
          pr.produced);
    op o = mkop(0, A_OK, 0, 8);
    mp_result rr;
    memset(&rr, 0, sizeof rr);
    rc = mp_pool_apply(p, "t_op", &o, sizeof o, &rr);
    CHECK(rc == MP_OK && check_result(&rr, 0), "%s: apply after: %s %s", ph, mp_err_name(rc), mp_err_name(rr.status));
    mp_result_clear(&rr);
  }
  /* an imap made before close goes on; one after close is MP_ESTATE */
  PHASE("imap and close");
  {
    enum { NC = 60 };
    ledger_reset();
    prod pr = mkprod(NC, -1);
    mp_imap_options io;
    memset(&io, 0, sizeof io);
    io.chunksize = 4;
    io.max_in_flight = 8;
    mp_iter *it = NULL;
    int rc = mp_pool_imap(p, "t_op", producer, &pr, &io, &it);
    CHECK(rc == MP_OK, "imap before close: %s", mp_err_name(rc));
    CHECK(mp_pool_close(p) == MP_OK, "close");
    prod pr2 = mkprod(NC, -1);
    mp_iter *it2 = NULL;
    rc = mp_pool_imap(p, "t_op", producer, &pr2, &io, &it2);
    CHECK(rc == MP_ESTATE, "imap after close: %s", mp_err_name(rc));
    if (it) {
      rc = mp_pool_join(p, 0);
      CHECK(rc == MP_ETIMEDOUT, "join(0) with an imap going on: %s", mp_err_name(rc));
      int got = 0;
      mp_result r;
      memset(&r, 0, sizeof r);
      size_t idx = 0;
      while ((rc = mp_iter_next(it, 30, &idx, &r)) == MP_OK) {
        CHECK((int)idx == got, "order after close: %zu, want %d", idx, got);
        got++;
        mp_result_clear(&r);
      }
      CHECK(rc == MP_ECLOSED && got == NC, "after close: got %d, rc %s", got, mp_err_name(rc));
    }
    rc = mp_pool_join(p, 30);
    CHECK(rc == MP_OK, "join %s", mp_err_name(rc));
    it = mp_iter_free(it);
  }
  PHASE("free");
  p = mp_pool_free(p);
  PA_DONE();
}
