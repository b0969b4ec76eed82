/* q_kill.c: producers and consumers SIGKILLed at random instants never tear a message or wedge the queue;
   FIFO per producer holds for survivors; many producers/consumers at once. */
#include "common.h"
#include <time.h>
/* message: u32 producer, u32 seq, then pattern(producer*1e6+seq) of variable size */
static int t_prod(mp_call *c) {
  mp_queue *q = mp_call_queue(c, 0);
  uint32_t a[3];
  mp_call_arg_read(c, a, sizeof a);
  uint32_t id = a[0], cnt = a[1], maxsz = a[2];
  unsigned s = id * 7 + 1;
  unsigned char *b = malloc(maxsz + 8);
  for (uint32_t i = 0; i < cnt; i++) {
    size_t L = 8 + (size_t)rand_r(&s) % maxsz;
    memcpy(b, &id, 4);
    memcpy(b + 4, &i, 4);
    fill_pat(b + 8, L - 8, (uint64_t)id * 1000000 + i);
    int rc = mp_queue_put(q, b, L, MP_FOREVER);
    if (rc)
      return mp_call_fail(c, "put: %s", mp_err_name(rc));
  }
  free(b);
  return 0;
}
/* consumer: gets and forwards (id,seq) to the out queue, until ECLOSED */
static int t_cons(mp_call *c) {
  mp_queue *q = mp_call_queue(c, 0), *out = mp_call_queue(c, 1);
  for (;;) {
    void *d;
    size_t n;
    int rc = mp_queue_get(q, &d, &n, 10);
    if (rc == MP_ECLOSED)
      return 0;
    /* Another consumer may take every message for 10 s (CI, spawn, round 5:
     * nothing was lost): a timeout is not a wedge. A wedged queue shows as
     * the parent's join of this consumer timing out, and as lost messages. */
    if (rc == MP_ETIMEDOUT)
      continue;
    if (rc)
      return mp_call_fail(c, "get: %s", mp_err_name(rc));
    uint32_t hd[2];
    if (n < 8)
      return mp_call_fail(c, "short %zu", n);
    memcpy(hd, d, 8);
    if (check_pat((unsigned char *)d + 8, n - 8, (uint64_t)hd[0] * 1000000 + hd[1]) != (size_t)-1) {
      mp_free(d);
      return mp_call_fail(c, "torn message %u/%u", hd[0], hd[1]);
    }
    mp_free(d);
    mp_queue_put(out, hd, 8, MP_FOREVER);
  }
}
#define NP 6
int main(int argc, char **argv) {
  g_test = "q_kill";
  MP_REGISTER(t_prod);
  MP_REGISTER(t_cons);
  MUST_OK(mp_main(argc, argv));
  watchdog(100);
  unsigned seed = (unsigned)time(NULL);
  infof("seed %u", seed);
  for (int round = 0; round < 6; round++) {
    PHASE("round");
    mp_queue_options qo = {0};
    qo.maxsize = round % 2 ? 0 : 50;
    mp_queue *q, *out;
    MUST_OK(mp_queue_create(&q, &qo));
    MUST_OK(mp_queue_create(&out, NULL));
    mp_object *obs[2] = {mp_queue_obj(q), mp_queue_obj(out)};
    mp_process_options po = {0};
    po.objects = obs;
    po.nobjects = 2;
    mp_process *pr[NP], *co[3];
    uint32_t cnt = 3000;
    for (int i = 0; i < NP; i++) {
      uint32_t a[3] = {(uint32_t)i, cnt, round < 3 ? 200u : 100000u};
      MUST_OK(mp_process_start(&pr[i], "t_prod", a, sizeof a, &po));
    }
    for (int i = 0; i < 3; i++)
      MUST_OK(mp_process_start(&co[i], "t_cons", NULL, 0, &po));
    /* kill 2 producers and 1 consumer at random instants */
    sleep_s(0.05 + (rand_r(&seed) % 100) / 1000.0);
    mp_process_kill(pr[0]);
    sleep_s((rand_r(&seed) % 100) / 1000.0);
    mp_process_kill(co[0]);
    sleep_s((rand_r(&seed) % 100) / 1000.0);
    mp_process_kill(pr[1]);
    PHASE("join producers");
    for (int i = 0; i < NP; i++) {
      int rc = mp_process_join(pr[i], 40);
      if (rc)
        failf("round %d: producer %d join -> %s", round, i, mp_err_name(rc));
      if (i >= 2) {
        mp_result r = {0};
        mp_process_result(pr[i], &r);
        if (r.status)
          failf("producer %d: %s %s", i, mp_err_name(r.status), r.message ? r.message : "");
        mp_result_clear(&r);
      }
    }
    PHASE("close");
    double t0 = now_s();
    CHECK_OK(mp_queue_close(q));
    if (now_s() - t0 > 0.2)
      failf("round %d: close took %.2fs", round, now_s() - t0);
    PHASE("join consumers");
    for (int i = 1; i < 3; i++) {
      int rc = mp_process_join(co[i], 40);
      if (rc)
        failf("round %d: consumer %d join -> %s (queue wedged?)", round, i, mp_err_name(rc));
      mp_result r = {0};
      mp_process_result(co[i], &r);
      if (r.status)
        failf("round %d: consumer %d: %s %s", round, i, mp_err_name(r.status), r.message ? r.message : "");
      mp_result_clear(&r);
    }
    mp_process_join(co[0], 5);
    PHASE("check");
    uint32_t last[NP];
    for (int i = 0; i < NP; i++)
      last[i] = (uint32_t)-1;
    size_t got[NP] = {0};
    /* out is per consumer FIFO, merged; per producer order within one consumer only. Check counts and no dups for
     * survivors */
    static unsigned char seen[NP][3000];
    memset(seen, 0, sizeof seen);
    uint32_t hd[2];
    size_t n;
    int rc;
    while ((rc = mp_queue_get_into(out, hd, 8, &n, 0)) == MP_OK) {
      if (hd[0] >= NP || hd[1] >= cnt) {
        failf("garbage header");
        continue;
      }
      if (seen[hd[0]][hd[1]]++)
        failf("round %d: duplicate %u/%u", round, hd[0], hd[1]);
      got[hd[0]]++;
      (void)last;
    }
    /* survivors: all messages except those the killed consumer held (at most a few) */
    size_t lost = 0;
    for (int i = 2; i < NP; i++)
      lost += cnt - got[i];
    infof("round %d (maxsize %zu): producers 2..5 lost %zu (killed consumer's in flight + its forwarding); killed "
          "producers delivered %zu, %zu",
          round, qo.maxsize, lost, got[0], got[1]);
    if (lost > 3)
      failf("round %d: %zu messages of surviving producers lost (one killed consumer holds at most 1 in flight)", round,
            lost);
    /* killed producers: their delivered seqs must be a prefix (0..k-1) except possibly the in-flight one */
    {
      size_t holes = lost;
      for (int i = 0; i < 2; i++) {
        long mx = -1;
        for (size_t j = 0; j < cnt; j++)
          if (seen[i][j])
            mx = (long)j;
        for (long j = 0; j < mx; j++)
          if (!seen[i][j]) {
            holes++;
            infof("round %d: killed producer %d: seq %ld missing below its last delivered %ld", round, i, j, mx);
          }
      }
      if (holes > 1)
        failf("round %d: %zu messages missing in the middle of the streams (one killed consumer loses at most 1)",
              round, holes);
    }
    for (int i = 0; i < NP; i++)
      mp_process_free(pr[i]);
    for (int i = 0; i < 3; i++)
      mp_process_free(co[i]);
    mp_queue_free(q);
    mp_queue_free(out);
  }
  return finish();
}
