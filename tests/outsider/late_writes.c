/* late_writes: after a map returns (OK, cancelled by terminate, or failed),
 * the library must never write into the caller's out/results buffers again.
 * A thread maps with big results; another terminates the pool mid-way; after
 * the map returns the buffers get a canary that must survive. */
#include "common.h"
static int t_blk(mp_call *c) {
  double s;
  mp_call_arg_read(c, &s, 8);
  sleep_s(s);
  static unsigned char b[65536];
  memset(b, 0x11, sizeof b);
  return mp_call_return(c, b, sizeof b);
}
static mp_pool *P;
static unsigned char *OUT;
static mp_result *RES;
static int map_rc;
static volatile int map_done;
#define N 64
static void *mapper(void *x) {
  (void)x;
  double in[N];
  for (int i = 0; i < N; i++)
    in[i] = 0.02 * (i % 5);
  mp_map_options mo = {0};
  mo.chunksize = 3;
  mo.results = RES;
  map_rc = mp_pool_map(P, "t_blk", in, 8, N, OUT, 65536, &mo);
  for (int i = 0; i < N; i++)
    mp_result_clear(&RES[i]);
  memset(OUT, 0xCC, (size_t)N * 65536);
  memset(RES, 0xCC, N * sizeof *RES);
  map_done = 1;
  return NULL;
}
int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_blk);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  g_test = "late_writes";
  watchdog(90);
  int ok = 0, canc = 0;
  for (int round = 0; round < 12; round++) {
    mp_pool_options o = {0};
    o.workers = 2;
    MUST_OK(mp_pool_create(&P, &o));
    OUT = malloc((size_t)N * 65536);
    RES = calloc(N, sizeof *RES);
    map_done = 0;
    pthread_t t;
    pthread_create(&t, NULL, mapper, NULL);
    sleep_s(0.05 + 0.03 * round);
    if (round % 3 == 2) {
      P = mp_pool_free(P);
    } else
      CHECK_OK(mp_pool_terminate(P));
    pthread_join(t, NULL);
    if (map_rc == MP_OK)
      ok++;
    else if (map_rc == MP_ECANCELLED)
      canc++;
    else
      failf("round %d: map %s (%s)", round, mp_err_name(map_rc), mp_last_error());
    sleep_s(0.3);
    size_t bad = 0;
    for (size_t i = 0; i < (size_t)N * 65536; i++)
      if (OUT[i] != 0xCC)
        bad++;
    unsigned char *rr = (unsigned char *)RES;
    size_t badr = 0;
    for (size_t i = 0; i < N * sizeof *RES; i++)
      if (rr[i] != 0xCC)
        badr++;
    if (bad || badr)
      failf("round %d: %zu bytes of out and %zu of results written after the map returned", round, bad, badr);
    if (P) {
      mp_pool_join(P, 5);
      P = mp_pool_free(P);
    }
    free(OUT);
    free(RES);
  }
  infof("maps: %d OK, %d cancelled", ok, canc);
  return finish();
}
