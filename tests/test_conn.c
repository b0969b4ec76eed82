/* Pipe / Connection: both directions, any size, timeouts, peers that go. */
#define _CRT_SECURE_NO_WARNINGS /* strcat is fine here (MSVC deprecates it) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "platform.h"
#include "testutil.h"
#include "wire.h"

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

/* Receives a 0-byte message into no buffer at all. */
static int recv_nothing_into_null(mp_call *call) {
  mp_conn *c = mp_call_conn(call, 0);
  size_t len = 99;
  int rc = mp_conn_recv_into(c, NULL, 0, &len, 30);
  if (rc != MP_OK) return mp_call_fail(call, "recv_into: %s", mp_last_error());
  return len == 0 ? 0 : mp_call_fail(call, "len %llu", (unsigned long long)len);
}

/* Receives every message already sent (timeout 0 after the first), and
 * returns them one after another, or at most its argument's count. */
static int recv_some(mp_call *call) {
  uint32_t most;
  if (mp_call_arg_read(call, &most, sizeof most) != MP_OK) return 1;
  mp_conn *c = mp_call_conn(call, 0);
  char out[1024];
  size_t used = 0;
  for (uint32_t i = 0; i < most; i++) {
    char buf[64];
    size_t len = 0;
    int rc = mp_conn_recv_into(c, buf, sizeof buf, &len, i ? 0 : 30);
    if (rc == MP_ETIMEDOUT && i) break;
    if (rc != MP_OK) return mp_call_fail(call, "recv %u: %s", i, mp_last_error());
    memcpy(out + used, buf, len);
    used += len;
  }
  return mp_call_return(call, out, used);
}

/* Sends a large message and then a small one. */
static int send_big_then_small(mp_call *call) {
  uint64_t n;
  if (mp_call_arg_read(call, &n, sizeof n) != MP_OK) return 1;
  mp_conn *c = mp_call_conn(call, 0);
  void *big = tu_pattern((size_t)n, 7);
  int rc = mp_conn_send(c, big, (size_t)n);
  free(big);
  if (rc == MP_OK) rc = mp_conn_send(c, "after", 5);
  return rc == MP_OK ? 0 : mp_call_fail(call, "send: %s", mp_last_error());
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
  /* A predicate: 1 (a receive would answer at once, with MP_ESTATE). */
  assert_int_equal(mp_conn_poll(tx, 0), 1);
  assert_non_null(strstr(mp_last_error(), "mp_conn_poll: this end of a one-way pipe only sends"));
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
  assert_int_equal(mp_conn_poll(NULL, 0), 1); /* a predicate: recv(NULL) answers at once */
  assert_non_null(strstr(mp_last_error(), "mp_conn_poll: NULL connection"));
  assert_null(mp_conn_obj(NULL));
  assert_null(mp_call_conn(NULL, 0));
  assert_null(mp_conn_free(NULL));
  assert_null(mp_conn_free(a));
  mp_conn_free(b);
}

/* A 0-byte message received into no buffer (buf NULL, cap 0), in a child
 * and here. */
static void zero_bytes_into_no_buffer(void **state) {
  (void)state;
  mp_conn *rx, *tx;
  TU_CHECK(mp_pipe(&rx, &tx, 0), MP_OK);
  mp_process *p = start_with("recv_nothing_into_null", rx, NULL, 0);
  TU_CHECK(mp_conn_send(tx, NULL, 0), MP_OK);
  finish(p);
  TU_CHECK(mp_conn_send(tx, "", 0), MP_OK);
  size_t len = 99;
  TU_CHECK(mp_conn_recv_into(rx, NULL, 0, &len, 10), MP_OK);
  assert_int_equal(len, 0);
  mp_conn_free(rx);
  mp_conn_free(tx);
}

/* Ten messages wait; a first child given the end reads one and exits; a
 * second child given the same end must find the other nine: a reader keeps
 * nothing past the message it delivers. */
static void an_end_handed_on_keeps_what_was_not_read(void **state) {
  (void)state;
  mp_conn *rx, *tx;
  TU_CHECK(mp_pipe(&rx, &tx, 0), MP_OK);
  char all[128] = "";
  for (int i = 0; i < 10; i++) {
    char m[16];
    snprintf(m, sizeof m, "<message %d>", i);
    TU_CHECK(mp_conn_send(tx, m, strlen(m)), MP_OK);
    strcat(all, m);
  }
  uint32_t one = 1, every = 100;
  mp_process *p = start_with("recv_some", rx, &one, sizeof one);
  mp_result r = tu_finish(p, 60);
  assert_int_equal(r.len, strlen("<message 0>"));
  assert_memory_equal(r.data, all, r.len);
  size_t first = r.len;
  mp_result_clear(&r);
  p = start_with("recv_some", rx, &every, sizeof every);
  r = tu_finish(p, 60);
  assert_int_equal(r.len, strlen(all) - first);
  assert_memory_equal(r.data, all + first, r.len);
  mp_result_clear(&r);
  mp_conn_free(rx);
  mp_conn_free(tx);
}

/* A reading end made from a raw pipe, so a test can send a frame in
 * pieces. */
static mp_conn *raw_reader(mp__handle *wr) {
  mp__handle rd;
  TU_CHECK(mp__pipe(&rd, wr), MP_OK);
  uint8_t blob[4] = {1, 0, 0, 0}; /* can read */
  mp_object *o = NULL;
  TU_CHECK(mp__object_import(MP__KIND_CONN, &rd, 1, blob, sizeof blob, &o), MP_OK);
  return (mp_conn *)o;
}

/* poll says 1 only when a receive would not block: not for part of a
 * header, nor for a header and part of its body. */
static void poll_waits_for_a_whole_message(void **state) {
  (void)state;
  mp__handle wr;
  mp_conn *c = raw_reader(&wr);
  char body[100];
  memset(body, 'b', sizeof body);
  mp__frame_header h = {MP__FRAME_DATA, 0, 0, sizeof body};
  uint8_t head[MP__FRAME_HEADER_SIZE];
  mp__frame_header_encode(&h, head);
  TU_CHECK(mp__write_all(wr, head, 10), MP_OK);
  assert_int_equal(mp_conn_poll(c, 0), 0);
  TU_CHECK(mp__write_all(wr, head + 10, sizeof head - 10), MP_OK);
  TU_CHECK(mp__write_all(wr, body, 50), MP_OK);
  assert_int_equal(mp_conn_poll(c, 0), 0);
  assert_int_equal(mp_conn_poll(c, 0.05), 0);
  void *m;
  size_t len;
  TU_CHECK(mp_conn_recv(c, &m, &len, 0), MP_ETIMEDOUT);
  assert_non_null(strstr(mp_last_error(), "mp_conn_recv: "));
  TU_CHECK(mp__write_all(wr, body + 50, 50), MP_OK);
  assert_int_equal(mp_conn_poll(c, 10), 1);
  assert_int_equal(mp_conn_poll(c, 0), 1); /* still there until received */
  TU_CHECK(mp_conn_recv(c, &m, &len, 0), MP_OK);
  assert_int_equal(len, sizeof body);
  assert_memory_equal(m, body, sizeof body);
  mp_free(m);
  assert_int_equal(mp_conn_poll(c, 0), 0);
  mp__handle_close(wr);
  assert_int_equal(mp_conn_poll(c, 10), 1); /* the end: recv answers at once */
  TU_CHECK(mp_conn_recv(c, &m, &len, 0), MP_ECLOSED);
  mp__conn_release(c);
}

/* Out of memory for a large message loses neither the message nor the
 * connection: a receive into a buffer of the caller's takes it, or a later
 * receive once there is memory again. */
static void out_of_memory_keeps_the_message(void **state) {
  (void)state;
  mp_conn *rx, *tx;
  TU_CHECK(mp_pipe(&rx, &tx, 0), MP_OK);
  uint64_t n = 4 << 20;
  void *want = tu_pattern((size_t)n, 7);
  void *m;
  size_t len;
  for (int round = 0; round < 2; round++) {
    mp_process *p = start_with("send_big_then_small", tx, &n, sizeof n);
    mp__conn_limit_alloc(rx, 1 << 20);
    TU_CHECK(mp_conn_recv(rx, &m, &len, 30), MP_ENOMEM);
    assert_non_null(strstr(mp_last_error(), "mp_conn_recv: out of memory"));
    assert_int_equal(mp_conn_poll(rx, 0), 1); /* recv answers at once: no memory */
    TU_CHECK(mp_conn_recv(rx, &m, &len, 30), MP_ENOMEM);
    if (round == 0) {
      /* Into the caller's memory: nothing more to allocate. */
      void *buf = malloc((size_t)n);
      TU_CHECK(mp_conn_recv_into(rx, buf, (size_t)n, &len, 30), MP_OK);
      assert_int_equal(len, n);
      assert_memory_equal(buf, want, (size_t)n);
      free(buf);
    } else {
      mp__conn_limit_alloc(rx, SIZE_MAX);
      TU_CHECK(mp_conn_recv(rx, &m, &len, 30), MP_OK);
      assert_int_equal(len, n);
      assert_memory_equal(m, want, (size_t)n);
      mp_free(m);
    }
    TU_CHECK(mp_conn_recv(rx, &m, &len, 30), MP_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(m, "after", 5);
    mp_free(m);
    finish(p);
  }
  free(want);
  mp_conn_free(rx);
  mp_conn_free(tx);
}

int main(int argc, char **argv) {
  MP_REGISTER(echo_loop);
  MP_REGISTER(send_arg);
  MP_REGISTER(sleep_then_exit);
  MP_REGISTER(recv_nothing_into_null);
  MP_REGISTER(recv_some);
  MP_REGISTER(send_big_then_small);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(duplex_echo_of_every_size),
      TU_TEST(one_way_pipes_have_a_direction),
      TU_TEST(poll_and_timeouts),
      TU_TEST(recv_into_keeps_a_message_too_big_for_the_buffer),
      TU_TEST(a_dead_peer_reads_closed),
      TU_TEST(bad_arguments),
      TU_TEST(zero_bytes_into_no_buffer),
      TU_TEST(an_end_handed_on_keeps_what_was_not_read),
      TU_TEST(poll_waits_for_a_whole_message),
      TU_TEST(out_of_memory_keeps_the_message),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
