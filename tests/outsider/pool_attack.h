/* pool_attack.h: what the pool_attack_* programs share. They came from an
 * attack on the Pool written from include/mproc.h alone (it found no bug)
 * and stay as regression tests. One task, t_op, does what an op says (run,
 * sleep or spin, crash in one of several ways, fail, return a given size)
 * and writes down in a ledger in mp_shm when each item started and ended,
 * how many times, and in which worker process. */
#ifndef POOL_ATTACK_H
#define POOL_ATTACK_H
#include "common.h"

#ifdef _WIN32
#define PA_KILLSELF() TerminateProcess(GetCurrentProcess(), 9)
#else
#define PA_KILLSELF() raise(SIGKILL)
#endif

enum { A_OK = 0, A_ABORT, A_SEGV, A_UEXIT, A_EXIT, A_FAIL, A_SPIN, A_KILL9 };
typedef struct op {
  int32_t idx, action;
  double sleep_s;
  uint64_t outlen; /* 0 or 8: the usual 8-byte result */
} op;
static op mkop(int idx, int action, double sleep_s, uint64_t outlen) {
  op o;
  memset(&o, 0, sizeof o);
  o.idx = idx;
  o.action = action;
  o.sleep_s = sleep_s;
  o.outlen = outlen;
  return o;
}
static mp_slice mkslice(const void *data, size_t len) {
  mp_slice s;
  s.data = data;
  s.len = len;
  return s;
}
typedef struct slot {
  int starts, dones; /* atomic */
  int worker;
  double t_start, t_done, t_alive; /* now_s(): system-wide clocks */
  int64_t pid;
  uint64_t proc; /* which worker process: unique in a run, unlike a pid */
} slot;
#define MAXSLOT 4096
typedef struct ledger {
  uint64_t procs; /* atomic: worker processes seen so far */
  slot s[MAXSLOT];
} ledger;

static mp_shm *g_shm;
static ledger *g_led;
static slot *g_slots;

static int ld(const int *p) {
  return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

/* This process's token in the ledger: taken at its first task. */
static uint64_t my_proc(ledger *l) {
  static uint64_t tok;
  static int64_t tok_pid;
  int64_t pid = mp_getpid();
  if (!tok || tok_pid != pid) {
    tok = __atomic_add_fetch(&l->procs, 1, __ATOMIC_SEQ_CST);
    tok_pid = pid;
  }
  return tok;
}

static int t_op(mp_call *call) {
  op o;
  size_t len;
  const void *a = mp_call_arg(call, &len);
  if (len != sizeof o)
    return mp_call_fail(call, "bad arg len %zu", len);
  memcpy(&o, a, sizeof o);
  mp_shm *sh = mp_call_shm(call, 0);
  ledger *l = sh ? (ledger *)mp_shm_ptr(sh) : NULL;
  slot *s = l ? &l->s[o.idx] : NULL;
  if (s) {
    s->t_start = now_s();
    s->pid = mp_getpid();
    s->proc = my_proc(l);
    s->worker = mp_call_worker_id(call);
    __atomic_add_fetch(&s->starts, 1, __ATOMIC_SEQ_CST);
  }
  if (o.action == A_SPIN) {
    double e = now_s() + o.sleep_s, t;
    while ((t = now_s()) < e)
      if (s)
        s->t_alive = t;
  } else if (o.sleep_s > 0)
    sleep_s(o.sleep_s);
  switch (o.action) {
  case A_ABORT:
    abort();
  case A_SEGV: {
    volatile int *volatile p = NULL;
    *p = 1;
    break;
  }
  case A_UEXIT:
    _exit(3);
  case A_EXIT:
    exit(4);
  case A_KILL9:
    PA_KILLSELF();
    sleep_s(5);
    break;
  case A_FAIL:
    if (s) {
      s->t_done = now_s();
      __atomic_add_fetch(&s->dones, 1, __ATOMIC_SEQ_CST);
    }
    (void)mp_call_fail(call, "fail %d", o.idx);
    return 7;
  }
  int rc;
  if (o.outlen == 8 || o.outlen == 0) {
    int64_t v = (int64_t)o.idx * 1000 + 7;
    rc = mp_call_return(call, &v, 8);
  } else {
    unsigned char *b = (unsigned char *)malloc(o.outlen);
    for (uint64_t i = 0; i < o.outlen; i++)
      b[i] = (unsigned char)(o.idx + i * 31);
    rc = mp_call_return(call, b, o.outlen);
    free(b);
  }
  if (s) {
    s->t_done = now_s();
    __atomic_add_fetch(&s->dones, 1, __ATOMIC_SEQ_CST);
  }
  return rc;
}
static int t_init_sleep(mp_call *call) {
  double d = 0;
  mp_call_arg_read(call, &d, sizeof d);
  sleep_s(d);
  return 0;
}

/* An 8-byte result of t_op for item idx. */
static int check_result(const mp_result *r, int idx) {
  if (!r || r->status != MP_OK || r->len != 8 || !r->data)
    return 0;
  int64_t v;
  memcpy(&v, r->data, 8);
  return v == (int64_t)idx * 1000 + 7;
}

/* A thread's identity, comparable across threads the library made too. */
static uint64_t thread_id(void) {
#ifdef _WIN32
  return (uint64_t)GetCurrentThreadId();
#else
  return (uint64_t)(uintptr_t)pthread_self();
#endif
}

/* Note a failure (with its line) but go on. */
#define CHECK(c, ...)                                                                                                  \
  do {                                                                                                                 \
    if (!(c)) {                                                                                                        \
      failf(__VA_ARGS__);                                                                                              \
      printf("    (at %s:%d)\n", __FILE__, __LINE__);                                                                  \
    }                                                                                                                  \
  } while (0)

static void pa_register(void) {
  MP_REGISTER(t_op);
  MP_REGISTER(t_init_sleep);
  common_register();
}
static int ledger_init(void) {
  if (mp_shm_create(&g_shm, sizeof(ledger)) != MP_OK) {
    printf("FAIL: %s: mp_shm_create: %s\n", g_test, mp_last_error());
    return 0;
  }
  g_led = (ledger *)mp_shm_ptr(g_shm);
  g_slots = g_led->s;
  return 1;
}
static void ledger_reset(void) {
  memset(g_slots, 0, sizeof(slot) * MAXSLOT);
}
static mp_object *g_objs[1];
static int mkpool(mp_pool **p, int workers, unsigned mtpc, double tmo, const char *init, const void *ia, size_t ial) {
  mp_pool_options o;
  memset(&o, 0, sizeof o);
  o.workers = workers;
  o.max_tasks_per_child = mtpc;
  o.task_timeout = tmo;
  o.initializer = init;
  o.initarg = ia;
  o.initarg_len = ial;
  g_objs[0] = mp_shm_obj(g_shm);
  o.objects = g_objs;
  o.nobjects = 1;
  int rc = mp_pool_create(p, &o);
  if (rc != MP_OK)
    failf("mp_pool_create(%d workers): %s %s", workers, mp_err_name(rc), mp_last_error());
  return rc;
}
/* mp_main, the ledger, the watchdog: 0 when the program may go on. */
#define PA_BOOT(name, wd)                                                                                              \
  do {                                                                                                                 \
    pa_register();                                                                                                     \
    if (mp_main(argc, argv) != MP_OK) {                                                                                \
      printf("FAIL: mp_main: %s\n", mp_last_error());                                                                  \
      return 1;                                                                                                        \
    }                                                                                                                  \
    g_test = (name);                                                                                                   \
    watchdog(wd);                                                                                                      \
    if (!ledger_init())                                                                                                \
      return 1;                                                                                                        \
  } while (0)
#define PA_DONE()                                                                                                      \
  do {                                                                                                                 \
    g_shm = mp_shm_free(g_shm);                                                                                        \
    return finish();                                                                                                   \
  } while (0)
#endif
