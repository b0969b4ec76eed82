/* pool_attack_mtpc: max_tasks_per_child counts chunks: with 1 and 2, and
 * chunks of 1 and 4, no worker process runs more chunks than that, and a
 * chunk runs in one process; an imap whose producer fails before any input
 * returns the producer's value (-55). */
#include "pool_attack.h"

static int badprod(void *ud, size_t index, mp_slice *item) {
  (void)ud;
  (void)index;
  (void)item;
  return -55;
}

int main(int argc, char **argv) {
  PA_BOOT("pool_attack_mtpc", 120);
  for (unsigned mt = 1; mt <= 2; mt++)
    for (size_t cs = 1; cs <= 4; cs += 3) {
      char ph[48];
      snprintf(ph, sizeof ph, "mt=%u cs=%zu", mt, cs);
      PHASE(ph);
      mp_pool *p = NULL;
      if (mkpool(&p, 2, mt, 0, NULL, NULL, 0))
        PA_DONE();
      enum { N = 48 };
      op in[N];
      int64_t out[N];
      ledger_reset();
      for (int i = 0; i < N; i++)
        in[i] = mkop(i, A_OK, 0.002, 8);
      mp_map_options mo;
      memset(&mo, 0, sizeof mo);
      mo.chunksize = cs;
      int rc = mp_pool_map(p, "t_op", in, sizeof(op), N, out, 8, &mo);
      CHECK(rc == MP_OK, "%s: map %s %s", ph, mp_err_name(rc), mp_last_error());
      /* per worker process (its token, not its pid, which the OS may
       * give again): how many chunks (chunk = i / cs) it ran */
      uint64_t procs[N];
      int nproc = 0, chunks[N];
      memset(chunks, 0, sizeof chunks);
      for (int c = 0; c < (int)(N / cs); c++) {
        uint64_t pr = g_slots[c * cs].proc;
        for (size_t k = 1; k < cs; k++)
          CHECK(g_slots[c * cs + k].proc == pr, "%s: chunk %d split across processes", ph, c);
        int j;
        for (j = 0; j < nproc; j++)
          if (procs[j] == pr)
            break;
        if (j == nproc)
          procs[nproc++] = pr;
        chunks[j]++;
      }
      int over = 0;
      for (int j = 0; j < nproc; j++)
        if (chunks[j] > (int)mt)
          over++;
      CHECK(over == 0, "%s: %d worker processes ran more than %u chunks", ph, over, mt);
      infof("%s: %d worker processes for %zu chunks", ph, nproc, N / cs);
      mp_iter *it = NULL;
      rc = mp_pool_imap(p, "t_op", badprod, NULL, NULL, &it);
      CHECK(rc == -55, "%s: imap whose producer fails at once: %d", ph, rc);
      CHECK(it == NULL || rc == MP_OK, "%s: an iterator made though the producer failed at once", ph);
      it = mp_iter_free(it);
      p = mp_pool_free(p);
    }
  PA_DONE();
}
