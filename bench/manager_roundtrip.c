/* Manager dict round trips: mproc against Python's Manager().dict(), one
 * run of each figure.
 *
 * One client (this process), one 16-byte value under one key; every set
 * and every get is a full round trip to the server process. Then the
 * other methods on the same path (printed beside set and get, with no
 * '@' line of their own yet: scripts/bench does not track them). Then 4 client
 * processes at once, each adding to a counter (the aggregate rate), and
 * for scale a 16-byte echo through a child over mproc's Pipe: the floor a
 * round trip between two processes has on this machine. Run alone, it
 * also runs the Python peer (bench/python/manager_peer.py) when python3 is
 * on PATH, right after its own figures, and prints the ratio (goal: mproc
 * >= 10x Python); scripts/bench runs the peer itself (--no-python). */
#define _CRT_SECURE_NO_WARNINGS /* sscanf is fine here (MSVC deprecates it) */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L /* popen in strict C11 */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_cli.h"
#include "bench_os.h"
#include "mproc.h"

static const char usage[] =
    "Usage: bench_manager_roundtrip [scale] [--no-python]\n"
    "\n"
    "Manager dict set, get and add_i64 round trips from one client; the\n"
    "other dict and list methods (contains, setdefault, list set, keys and\n"
    "items of 16 keys, and set+pop and insert+pop pairs); add_i64 from 4\n"
    "client processes at once, and a Pipe echo for the floor: one run\n"
    "of each figure, scale x 0.2 s each (default scale 1). Then, without\n"
    "--no-python, Python's Manager().dict() on the same figures. Prints\n"
    "'@ manager.FIGURE IMPL VALUE us' lines for scripts/bench, which runs it\n"
    "several times.\n";

#ifdef _WIN32
#define popen _popen
#define pclose _pclose
#endif

#ifndef MPROC_BENCH_PY_DIR
#define MPROC_BENCH_PY_DIR "bench/python"
#endif

enum {
  OP_SET, OP_GET, OP_ADD,
  /* The methods beyond set/get: one round trip each... */
  OP_CONTAINS, OP_SETDEFAULT, OP_LIST_SET, OP_KEYS16, OP_ITEMS16,
  /* ...and pairs that leave the object as they found it (two round trips). */
  OP_SET_POP, OP_INSERT_POP
};

/* One call (or pair) of op; MP_OK or its error. */
static int one_op(mp_dict *d, mp_list *l, int op) {
  static const char value[16] = "0123456789abcdef";
  void *v;
  size_t len;
  int rc, found;
  switch (op) {
  case OP_SET: return mp_dict_set(d, "key", value, sizeof value);
  case OP_GET:
    if ((rc = mp_dict_get(d, "key", &v, &len)) == MP_OK) mp_free(v);
    return rc;
  case OP_ADD: return mp_dict_add_i64(d, "count", 1, NULL);
  case OP_CONTAINS: return mp_dict_contains(d, "key", &found);
  case OP_SETDEFAULT: /* the key is there: its 16 bytes come back, as a get */
    if ((rc = mp_dict_setdefault(d, "key", value, sizeof value, &v, &len)) == MP_OK) mp_free(v);
    return rc;
  case OP_LIST_SET: return mp_list_set(l, 0, value, sizeof value);
  case OP_KEYS16: {
    char **keys;
    if ((rc = mp_dict_keys(d, &keys, &len)) == MP_OK) mp_free(keys);
    return rc;
  }
  case OP_ITEMS16: {
    mp_dict_item *items;
    if ((rc = mp_dict_items(d, &items, &len)) == MP_OK) mp_free(items);
    return rc;
  }
  case OP_SET_POP:
    if ((rc = mp_dict_set(d, "popped", value, sizeof value)) != MP_OK) return rc;
    if ((rc = mp_dict_pop(d, "popped", &v, &len)) == MP_OK) mp_free(v);
    return rc;
  default: /* OP_INSERT_POP */
    if ((rc = mp_list_insert(l, 0, value, sizeof value)) != MP_OK) return rc;
    if ((rc = mp_list_pop(l, 0, &v, &len)) == MP_OK) mp_free(v);
    return rc;
  }
}

/* Calls (or pairs) per second of one op, for about secs seconds. */
static double slice_rate_of(mp_dict *d, mp_list *l, int op, double secs) {
  uint64_t n = 0;
  double t0 = bench_now(), now;
  do {
    for (int i = 0; i < 256; i++) {
      if (one_op(d, l, op) != MP_OK) {
        fprintf(stderr, "manager call: %s\n", mp_last_error());
        exit(1);
      }
    }
    n += 256;
    now = bench_now();
  } while (now - t0 < secs);
  return (double)n / (now - t0);
}

static double slice_rate(mp_dict *d, int op, double secs) { return slice_rate_of(d, NULL, op, secs); }

/* A client process: adds for the given seconds, returns its rate. */
static int adder(mp_call *call) {
  double secs;
  mp_dict *d;
  if (mp_call_arg_read(call, &secs, sizeof secs) != MP_OK) return 1;
  if (mp_manager_dict(mp_call_manager(call, 0), "bench", &d) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
  double r = slice_rate(d, OP_ADD, secs);
  mp_dict_free(d);
  return mp_call_return(call, &r, sizeof r);
}

static double parallel_rate(mp_manager *m, int clients, double secs) {
  mp_object *objs[1] = {mp_manager_obj(m)};
  mp_process_options o;
  memset(&o, 0, sizeof o);
  o.objects = objs;
  o.nobjects = 1;
  mp_process *ps[16];
  double total = 0;
  for (int i = 0; i < clients; i++)
    if (mp_process_start(&ps[i], "adder", &secs, sizeof secs, &o) != MP_OK) bench_die("mp_process_start");
  for (int i = 0; i < clients; i++) {
    mp_result r;
    double one = 0;
    mp_process_join(ps[i], MP_FOREVER);
    if (mp_process_result(ps[i], &r) == MP_OK && r.status == MP_OK && r.len == sizeof one) memcpy(&one, r.data, sizeof one);
    mp_result_clear(&r);
    mp_process_free(ps[i]);
    total += one;
  }
  return total;
}

/* The floor for comparison: a framed message to a child and back over
 * mproc's own Pipe (what one manager call costs in transport alone). */
static int echo(mp_call *call) {
  mp_conn *c = mp_call_conn(call, 0);
  char buf[64];
  size_t len;
  while (mp_conn_recv_into(c, buf, sizeof buf, &len, MP_FOREVER) == MP_OK)
    if (mp_conn_send(c, buf, len) != MP_OK) break;
  return 0;
}

static double pipe_slice(mp_conn *a, double secs) {
  char buf[64] = "0123456789abcdef";
  size_t len;
  uint64_t n = 0;
  double t0 = bench_now(), now;
  do {
    for (int i = 0; i < 256; i++) {
      if (mp_conn_send(a, buf, 16) != MP_OK || mp_conn_recv_into(a, buf, sizeof buf, &len, MP_FOREVER) != MP_OK)
        bench_die("echo");
    }
    n += 256;
    now = bench_now();
  } while (now - t0 < secs);
  return (double)n / (now - t0);
}

static double pipe_rate(double secs) {
  mp_conn *a, *b;
  mp_process *p;
  if (mp_pipe(&a, &b, 1) != MP_OK) bench_die("mp_pipe");
  mp_object *objs[1] = {mp_conn_obj(b)};
  mp_process_options o;
  memset(&o, 0, sizeof o);
  o.objects = objs;
  o.nobjects = 1;
  if (mp_process_start(&p, "echo", NULL, 0, &o) != MP_OK) bench_die("mp_process_start");
  mp_conn_free(b);
  double rate = pipe_slice(a, secs);
  mp_conn_free(a); /* the child sees the end and returns */
  mp_process_join(p, MP_FOREVER);
  mp_process_free(p);
  return rate;
}

/* Runs the Python peer at the same scale; 1 if both of its figures were read. */
static int python_peer(double scale, double *set_rate, double *get_rate) {
  char cmd[1024], line[256];
  snprintf(cmd, sizeof cmd, "python3 \"%s/manager_peer.py\" %g", MPROC_BENCH_PY_DIR, scale);
  FILE *f = popen(cmd, "r");
  int got = 0;
  if (!f) return 0;
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "python set %lf", set_rate) == 1) got |= 1;
    if (sscanf(line, "python get %lf", get_rate) == 1) got |= 2;
  }
  pclose(f);
  return got == 3;
}

int main(int argc, char **argv) {
  MP_REGISTER(adder);
  MP_REGISTER(echo);
  if (mp_main(argc, argv) != MP_OK) return 1;
  int with_python = 1, args = 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--no-python") == 0)
      with_python = 0;
    else
      argv[args++] = argv[i];
  }
  double scale = bench_scale(args, argv, 1, usage), secs = 0.2 * scale;
  mp_manager *m;
  mp_dict *d;
  if (mp_manager_start(&m) != MP_OK || mp_manager_dict(m, "bench", &d) != MP_OK) bench_die("manager");
  slice_rate(d, OP_SET, secs / 10); /* warm up: the connection, the caches */
  double set = slice_rate(d, OP_SET, secs), get = slice_rate(d, OP_GET, secs), add = slice_rate(d, OP_ADD, secs);
  /* The methods, on a dict of 16 keys ("key", "count" and 14 more) and a
   * list of one item: figures to hold against set and get. */
  static const char *const method_names[] = {"contains", "setdefault (hit)", "list set", "keys (16 keys)",
                                             "items (16 keys)", "set + pop pair", "insert + pop pair"};
  double method[7];
  mp_list *l;
  if (mp_manager_list(m, "bench", &l) != MP_OK || mp_list_append(l, "x", 1) != MP_OK) bench_die("manager list");
  for (int i = 0; i < 14; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%02d", i);
    if (mp_dict_set(d, key, "0123456789abcdef", 16) != MP_OK) bench_die("manager set");
  }
  for (int op = OP_CONTAINS; op <= OP_INSERT_POP; op++) method[op - OP_CONTAINS] = slice_rate_of(d, l, op, secs);
  mp_list_free(l);
  double par = parallel_rate(m, 4, secs);
  double floor = pipe_rate(secs);
  mp_dict_free(d);
  mp_manager_free(m);
  double py_set = 0, py_get = 0;
  int have_py = with_python && python_peer(scale, &py_set, &py_get);

  printf("# manager dict round trips, one client process, 16-byte values\n");
  printf("mproc dict set           %10.0f rt/s  %6.2f us\n", set, 1e6 / set);
  printf("mproc dict get           %10.0f rt/s  %6.2f us\n", get, 1e6 / get);
  printf("mproc dict add_i64       %10.0f rt/s  %6.2f us\n", add, 1e6 / add);
  for (int i = 0; i < 7; i++)
    printf("mproc %-18s %10.0f %-6s%6.2f us\n", method_names[i], method[i], i >= 5 ? "pair/s" : "rt/s",
           1e6 / method[i]);
  printf("mproc add_i64, 4 clients %10.0f rt/s  (all processes together)\n", par);
  printf("mproc Pipe echo (floor)  %10.0f rt/s  %6.2f us  (transport alone: manager set at %.0f%% of it)\n", floor,
         1e6 / floor, 100.0 * set / floor);
  bench_report("manager.set", "mproc", 1e6 / set, "us");
  bench_report("manager.get", "mproc", 1e6 / get, "us");
  bench_report("manager.set", "raw", 1e6 / floor, "us");
  bench_report("manager.get", "raw", 1e6 / floor, "us");
  if (have_py) {
    printf("python dict set          %10.0f rt/s  %6.2f us\n", py_set, 1e6 / py_set);
    printf("python dict get          %10.0f rt/s  %6.2f us\n", py_get, 1e6 / py_get);
    printf("ratio set %.1fx, get %.1fx (goal >= 10x)\n", set / py_set, get / py_get);
  } else if (with_python) {
    printf("python peer: not run (python3 %s/manager_peer.py failed)\n", MPROC_BENCH_PY_DIR);
  }
  return 0;
}
