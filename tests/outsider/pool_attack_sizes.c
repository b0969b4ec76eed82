/* pool_attack_sizes: arguments of 0 and 1 byte, NULL with a length
 * (MP_EINVAL), MP_MAX_MESSAGE + 1 and SIZE_MAX (MP_ETOOBIG: apply,
 * apply_async, map_slices, map; n times in_size overflowing); a 64 MiB
 * argument echoed; results from 0 bytes to 64 MiB mixed with 4 MiB
 * arguments in one map_slices, chunks of 1 and 3, every byte checked (and
 * every argument byte, summed by the task); a fixed map whose item returns
 * the wrong size (MP_EINVAL for it alone); with 1 and 2 workers. */
#include "pool_attack.h"
#ifndef _WIN32
#include <sys/mman.h>
#endif

/* arg: u64 wanted result size, u64 seed, then bytes; the result's first 8
 * bytes are the sum of those bytes */
static int t_big(mp_call *call) {
  uint64_t w[2];
  size_t len;
  const unsigned char *a = (const unsigned char *)mp_call_arg(call, &len);
  if (len < 16) {
    if (len == 0)
      return mp_call_return(call, NULL, 0);
    return mp_call_return(call, a, len);
  }
  memcpy(w, a, 16);
  unsigned char *b = (unsigned char *)malloc(w[0] ? w[0] : 1);
  if (!b)
    return mp_call_fail(call, "no memory for %llu bytes", (unsigned long long)w[0]);
  for (uint64_t i = 0; i < w[0]; i++)
    b[i] = (unsigned char)(w[1] + i * 131 + (i >> 12));
  uint64_t sum = 0;
  for (size_t i = 16; i < len; i++)
    sum += a[i];
  if (w[0] >= 8)
    memcpy(b, &sum, 8);
  int rc = mp_call_return(call, b, w[0]);
  free(b);
  return rc;
}
static int verify(const mp_result *r, uint64_t want, uint64_t seed, uint64_t sum) {
  if (r->status != MP_OK || r->len != want)
    return 0;
  const unsigned char *b = (const unsigned char *)r->data;
  for (uint64_t i = 8; i < want; i++)
    if (b[i] != (unsigned char)(seed + i * 131 + (i >> 12)))
      return 0;
  if (want >= 8) {
    uint64_t s;
    memcpy(&s, b, 8);
    if (s != sum)
      return 0;
  }
  if (want > 0 && want < 8)
    for (uint64_t i = 0; i < want; i++)
      if (b[i] != (unsigned char)(seed + i * 131 + (i >> 12)))
        return 0;
  return 1;
}
/* MP_MAX_MESSAGE + a page of readable address space, never touched */
static void *huge_map(size_t n) {
#ifdef _WIN32
  return VirtualAlloc(NULL, n, MEM_RESERVE | MEM_COMMIT, PAGE_READONLY);
#else
  void *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
#endif
}
static void huge_unmap(void *p, size_t n) {
#ifdef _WIN32
  (void)n;
  VirtualFree(p, 0, MEM_RELEASE);
#else
  munmap(p, n);
#endif
}

int main(int argc, char **argv) {
  MP_REGISTER(t_big);
  PA_BOOT("pool_attack_sizes", 120);
  int W[] = {1, 2};
  size_t HUGE_LEN = MP_MAX_MESSAGE + 4096;
  unsigned char *huge = (unsigned char *)huge_map(HUGE_LEN);
  if (!huge) {
    failf("could not reserve %zu bytes of address space", HUGE_LEN);
    PA_DONE();
  }
  for (int wi = 0; wi < 2; wi++) {
    char ph[48];
    snprintf(ph, sizeof ph, "w=%d edges", W[wi]);
    PHASE(ph);
    mp_pool *p = NULL;
    if (mkpool(&p, W[wi], 0, 0, NULL, NULL, 0))
      break;
    mp_result r;
    memset(&r, 0, sizeof r);
    int rc = mp_pool_apply(p, "t_echo", NULL, 0, &r);
    CHECK(rc == MP_OK && r.status == MP_OK && r.len == 0, "empty arg: %s %s len %zu", mp_err_name(rc),
          mp_err_name(r.status), r.len);
    mp_result_clear(&r);
    rc = mp_pool_apply(p, "t_echo", "x", 1, &r);
    CHECK(rc == MP_OK && r.len == 1 && ((const char *)r.data)[0] == 'x', "1-byte arg: %s", mp_err_name(rc));
    mp_result_clear(&r);
    rc = mp_pool_apply(p, "t_echo", NULL, 5, &r);
    CHECK(rc == MP_EINVAL, "NULL arg of length 5: %s", mp_err_name(rc));
    mp_result_clear(&r);
    rc = mp_pool_apply(p, "t_echo", huge, MP_MAX_MESSAGE + 1, &r);
    CHECK(rc == MP_ETOOBIG, "apply MP_MAX_MESSAGE+1: %s", mp_err_name(rc));
    mp_result_clear(&r);
    rc = mp_pool_apply_async(p, "t_echo", huge, MP_MAX_MESSAGE + 1, NULL, NULL, NULL);
    CHECK(rc == MP_ETOOBIG, "apply_async MP_MAX_MESSAGE+1: %s", mp_err_name(rc));
    rc = mp_pool_apply(p, "t_echo", huge, SIZE_MAX, &r);
    CHECK(rc == MP_ETOOBIG, "apply SIZE_MAX: %s", mp_err_name(rc));
    mp_result_clear(&r);
    {
      mp_slice s[2];
      s[0] = mkslice("a", 1);
      s[1] = mkslice(huge, MP_MAX_MESSAGE + 1);
      mp_result o2[2];
      memset(o2, 0, sizeof o2);
      rc = mp_pool_map_slices(p, "t_echo", s, 2, o2, NULL);
      CHECK(rc == MP_EINVAL || rc == MP_ETOOBIG, "map_slices, an item over MP_MAX_MESSAGE: %s", mp_err_name(rc));
      mp_result_clear(&o2[0]);
      mp_result_clear(&o2[1]);
    }
    {
      int64_t out1;
      rc = mp_pool_map(p, "t_echo", huge, MP_MAX_MESSAGE + 1, 1, &out1, 8, NULL);
      CHECK(rc == MP_ETOOBIG || rc == MP_EINVAL, "map, in_size MP_MAX_MESSAGE+1: %s", mp_err_name(rc));
      rc = mp_pool_map(p, "t_echo", huge, SIZE_MAX / 2, 3, &out1, 8, NULL);
      CHECK(rc == MP_EINVAL || rc == MP_ETOOBIG, "map, n times in_size overflows: %s", mp_err_name(rc));
    }
    /* a 64 MiB argument echoed */
    if (wi == 0) {
      PHASE("64 MiB echo");
      size_t L = (size_t)64 << 20;
      unsigned char *b = (unsigned char *)malloc(L);
      for (size_t i = 0; i < L; i++)
        b[i] = (unsigned char)(i * 7 + (i >> 16));
      double t0 = now_s();
      rc = mp_pool_apply(p, "t_echo", b, L, &r);
      CHECK(rc == MP_OK && r.status == MP_OK && r.len == L && memcmp(r.data, b, L) == 0, "64 MiB echo: %s %s len %zu",
            mp_err_name(rc), mp_err_name(r.status), r.len);
      infof("64 MiB echo %.2f s", now_s() - t0);
      mp_result_clear(&r);
      free(b);
    }
    /* big and small results, big and small arguments, in one map */
    for (size_t cs = 1; cs <= 3; cs += 2) {
      snprintf(ph, sizeof ph, "w=%d cs=%zu mix", W[wi], cs);
      PHASE(ph);
      enum { N = 12 };
      uint64_t want[N] = {0, 1, 8, (uint64_t)64 << 20, 3, (uint64_t)16 << 20, 9, (uint64_t)1 << 20, 0, 65536,
                          (uint64_t)64 << 20, 5};
      unsigned char *args[N];
      mp_slice s[N];
      uint64_t sums[N];
      for (int i = 0; i < N; i++) {
        size_t al = 16 + (i % 4 == 1 ? ((size_t)4 << 20) : (size_t)i);
        args[i] = (unsigned char *)malloc(al);
        memcpy(args[i], &want[i], 8);
        uint64_t seed = (uint64_t)i * 17;
        memcpy(args[i] + 8, &seed, 8);
        sums[i] = 0;
        for (size_t k = 16; k < al; k++) {
          args[i][k] = (unsigned char)(k * 3 + (size_t)i);
          sums[i] += args[i][k];
        }
        s[i] = mkslice(args[i], al);
      }
      mp_result o3[N];
      memset(o3, 0, sizeof o3);
      mp_map_options mo;
      memset(&mo, 0, sizeof mo);
      mo.chunksize = cs;
      double t0 = now_s();
      rc = mp_pool_map_slices(p, "t_big", s, N, o3, &mo);
      CHECK(rc == MP_OK, "%s: map rc %s %s", ph, mp_err_name(rc), mp_last_error());
      for (int i = 0; i < N; i++) {
        CHECK(verify(&o3[i], want[i], (uint64_t)i * 17, sums[i]), "%s: item %d want %llu bytes, got %s len %zu", ph, i,
              (unsigned long long)want[i], mp_err_name(o3[i].status), o3[i].len);
        mp_result_clear(&o3[i]);
        free(args[i]);
      }
      infof("%s map %.2f s", ph, now_s() - t0);
    }
    /* a fixed map, one result of the wrong size: MP_EINVAL for that item */
    snprintf(ph, sizeof ph, "w=%d wrong size", W[wi]);
    PHASE(ph);
    {
      op in[6];
      int64_t out6[6];
      mp_result res[6];
      memset(res, 0, sizeof res);
      memset(out6, 0, sizeof out6);
      for (int i = 0; i < 6; i++)
        in[i] = mkop(i, A_OK, 0, i == 3 ? 4 : 8);
      mp_map_options mo;
      memset(&mo, 0, sizeof mo);
      mo.chunksize = 2;
      mo.results = res;
      rc = mp_pool_map(p, "t_op", in, sizeof(op), 6, out6, 8, &mo);
      CHECK(rc == MP_EINVAL && res[3].status == MP_EINVAL, "%s: rc %s, item 3 %s", ph, mp_err_name(rc),
            mp_err_name(res[3].status));
      for (int i = 0; i < 6; i++) {
        if (i != 3)
          CHECK(res[i].status == MP_OK && out6[i] == i * 1000 + 7, "%s: item %d %s", ph, i, mp_err_name(res[i].status));
        mp_result_clear(&res[i]);
      }
    }
    PHASE("free");
    p = mp_pool_free(p);
  }
  huge_unmap(huge, HUGE_LEN);
  PA_DONE();
}
