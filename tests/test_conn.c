/* Pipe / Connection: both directions, any size, timeouts, peers that go. */
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "testutil.h"

/* Echoes every message on connection 0 until the peer closes it. */
static int echo_loop(mp_call *call) {
  mp_conn *c = mp_call_conn(call, 0);
  if (!c) return mp_call_fail(call, "no connection");
  for (;;) {
    void *m;
    size_t n;
    int rc = mp_conn_recv(c, &m, &n, MP_FOREVER);
    if (rc == MP_ECLOSED) return 0;
    if (rc != MP_OK) return mp_call_fail(call, "recv: %s", mp_last_error());
    rc = mp_conn_send(c, m, n);
    mp_free(m);
    if (rc != MP_OK) return mp_call_fail(call, "send: %s", mp_last_error());
  }
}

/* Sends its argument on connection 0 (a one-way sending end), then exits. */
static int send_arg(mp_call *call) {
  size_t n;
  const void *p = mp_call_arg(call, &n);
  mp_conn *c = mp_call_conn(call, 0);
  if (!c) return 1;
  if (mp_call_conn(call, 1) != NULL) return 3;  /* out of range reads NULL */
  return mp_conn_send(c, p, n) == MP_OK ? 0 : 4;
}

static int sleep_then_exit(mp_call *call) {
  (void)call;
  mp__sleep(60);
  return 0;
}

static mp_process *start_with(const char *task, mp_conn *c, const void *arg, size_t len) {
  mp_object *objs[1] = {mp_conn_obj(c)};
  return tu_start(task, objs, 1, arg, len);
}

static void finish(mp_process *p) {
  mp_result r = tu_finish(p, 60);
  mp_result_clear(&r);
}

static void duplex_echo_of_every_size(void **state) {
  (void)state;
  mp_conn *a, *b;
  TU_CHECK(mp_pipe(&a, &b, 1), MP_OK);
  mp_process *p = start_with("echo_loop", b, NULL, 0);
  b = mp_conn_free(b); /* our copy of the child's end: close it */
  size_t sizes[] = {0, 1, 100, 4096, 65537, (size_t)1 << 20, tu_scale((size_t)64 << 20, (size_t)4 << 20)};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n = sizes[i];
    unsigned char *msg = malloc(n ? n : 1);
    for (size_t k = 0; k < n; k++) msg[k] = (unsigned char)(k * 31 + i);
    TU_CHECK(mp_conn_send(a, msg, n), MP_OK);
    void *back;
    size_t len;
    TU_CHECK(mp_conn_recv(a, &back, &len, 60), MP_OK);
    assert_int_equal(len, n);
    if (n) assert_memory_equal(back, msg, n);
    mp_free(back);
    free(msg);
  }
  a = mp_conn_free(a); /* the child sees EOF and returns */
  finish(p);
}

static void one_way_pipes_have_a_direction(void **state) {
  (void)state;
  mp_conn *rx, *tx;
  TU_CHECK(mp_pipe(&rx, &tx, 0), MP_OK);
  void *m;
  size_t n;
  TU_CHECK(mp_conn_send(rx, "x", 1), MP_ESTATE);
  TU_CHECK(mp_conn_recv(tx, &m, &n, 0), MP_ESTATE);
  assert_int_equal(mp_conn_poll(tx, 0), MP_ESTATE);
  mp_process *p = start_with("send_arg", tx, "from child", 10);
  tx = mp_conn_free(tx);
  TU_CHECK(mp_conn_recv(rx, &m, &n, 60), MP_OK);
  assert_int_equal(n, 10);
  assert_memory_equal(m, "from child", 10);
  mp_free(m);
  finish(p);
  TU_CHECK(mp_conn_recv(rx, &m, &n, 5), MP_ECLOSED); /* writer gone */
  mp_conn_free(rx);
}

static void poll_and_timeouts(void **state) {
  (void)state;
  mp_conn *a, *b;
  TU_CHECK(mp_pipe(&a, &b, 1), MP_OK);
  assert_int_equal(mp_conn_poll(a, 0), 0);
  double t0 = mp__now();
  assert_int_equal(mp_conn_poll(a, 0.1), 0);
  assert_true(mp__now() - t0 >= 0.09);
  void *m;
  size_t n;
  t0 = mp__now();
  TU_CHECK(mp_conn_recv(a, &m, &n, 0.1), MP_ETIMEDOUT);
  assert_true(mp__now() - t0 >= 0.09 && mp__now() - t0 < 5);
  TU_CHECK(mp_conn_recv(a, &m, &n, 0), MP_ETIMEDOUT);
  TU_CHECK(mp_conn_send(b, "ping", 4), MP_OK);
  assert_int_equal(mp_conn_poll(a, 5), 1);
  assert_int_equal(mp_conn_poll(a, 0), 1); /* still there until received */
  TU_CHECK(mp_conn_recv(a, &m, &n, 0), MP_OK);
  assert_memory_equal(m, "ping", 4);
  mp_free(m);
  mp_conn_free(a);
  mp_conn_free(b);
}

static void recv_into_keeps_a_message_too_big_for_the_buffer(void **state) {
  (void)state;
  mp_conn *a, *b;
  TU_CHECK(mp_pipe(&a, &b, 0), MP_OK);
  TU_CHECK(mp_conn_send(b, "0123456789", 10), MP_OK);
  TU_CHECK(mp_conn_send(b, "next", 4), MP_OK);
  char small[4], big[16];
  size_t len = 0;
  TU_CHECK(mp_conn_recv_into(a, small, sizeof small, &len, 1), MP_ETOOBIG);
  assert_int_equal(len, 10);
  TU_CHECK(mp_conn_recv_into(a, big, sizeof big, &len, 1), MP_OK);
  assert_int_equal(len, 10);
  assert_memory_equal(big, "0123456789", 10);
  TU_CHECK(mp_conn_recv_into(a, small, sizeof small, &len, 1), MP_OK);
  assert_memory_equal(small, "next", 4);
  TU_CHECK(mp_conn_recv_into(a, NULL, 0, &len, 0), MP_ETIMEDOUT);
  mp_conn_free(a);
  mp_conn_free(b);
}

static void a_dead_peer_reads_closed(void **state) {
  (void)state;
  mp_conn *a, *b;
  TU_CHECK(mp_pipe(&a, &b, 1), MP_OK);
  mp_process *p = start_with("sleep_then_exit", b, NULL, 0);
  b = mp_conn_free(b);
  TU_CHECK(mp_process_kill(p), MP_OK);
  void *m;
  size_t n;
  TU_CHECK(mp_conn_recv(a, &m, &n, 10), MP_ECLOSED);
  assert_int_equal(mp_conn_poll(a, 0), 1); /* recv would answer at once */
  TU_CHECK(mp_process_join(p, 10), MP_OK);
  mp_process_free(p);
  /* Sending to a dead reader is an error, not a SIGPIPE death. */
  TU_CHECK(mp_conn_send(a, "x", 1), MP_ECLOSED);
  mp_conn_free(a);
}

static void bad_arguments(void **state) {
  (void)state;
  mp_conn *a, *b;
  void *m;
  size_t n;
  TU_CHECK(mp_pipe(&a, NULL, 1), MP_EINVAL);
  TU_CHECK(mp_pipe(&a, &b, 1), MP_OK);
  TU_CHECK(mp_conn_send(NULL, "x", 1), MP_EINVAL);
  TU_CHECK(mp_conn_send(a, NULL, 1), MP_EINVAL);
  TU_CHECK(mp_conn_send(a, "x", MP_MAX_MESSAGE + 1), MP_ETOOBIG);
  TU_CHECK(mp_conn_recv(NULL, &m, &n, 0), MP_EINVAL);
  TU_CHECK(mp_conn_recv(a, NULL, &n, 0), MP_EINVAL);
  TU_CHECK(mp_conn_recv_into(a, NULL, 5, &n, 0), MP_EINVAL);
  assert_int_equal(mp_conn_poll(NULL, 0), MP_EINVAL);
  assert_null(mp_conn_obj(NULL));
  assert_null(mp_call_conn(NULL, 0));
  assert_null(mp_conn_free(NULL));
  assert_null(mp_conn_free(a));
  mp_conn_free(b);
}

int main(int argc, char **argv) {
  MP_REGISTER(echo_loop);
  MP_REGISTER(send_arg);
  MP_REGISTER(sleep_then_exit);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(duplex_echo_of_every_size),
      TU_TEST(one_way_pipes_have_a_direction),
      TU_TEST(poll_and_timeouts),
      TU_TEST(recv_into_keeps_a_message_too_big_for_the_buffer),
      TU_TEST(a_dead_peer_reads_closed),
      TU_TEST(bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
