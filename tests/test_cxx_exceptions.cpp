// A C++ exception that escapes a task: with either start method, the item
// reads MP_ECRASHED with a sentence saying so, and nothing of the parent's
// program runs in the child. In a fork child the frames below the worker
// are the parent's own, main()'s try block among them: were the exception
// to unwind into it, the catch below would run in the child and count.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

extern "C" {
#include "platform.h"
#include "testutil.h"
}

static volatile uint32_t *caught_in_a_child; // shared with every fork child
static int64_t parent_pid;

static int thrower(mp_call *call) {
  (void)call;
  throw std::runtime_error("boom from a task");
}

static int square(mp_call *call) {
  int64_t x;
  if (mp_call_arg_read(call, &x, sizeof x) != MP_OK) return 1;
  x *= x;
  return mp_call_return(call, &x, sizeof x);
}

static int escapes_inside_a_catch(mp_call *call) {
  // Caught inside the task itself: nothing escapes, all is well.
  try {
    throw std::logic_error("handled");
  } catch (const std::exception &) {
  }
  int64_t one = 1;
  return mp_call_return(call, &one, sizeof one);
}

static void said_an_exception_escaped(const mp_result &r) {
  assert_int_equal(r.status, MP_ECRASHED);
  assert_non_null(r.message);
  if (!std::strstr(r.message, "exception")) fail_msg("message: %s", r.message);
}

static void in_a_pool(void **state) {
  (void)state;
  mp_pool *p = nullptr;
  mp_pool_options o{};
  o.workers = 1;
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  mp_result r{};
  TU_CHECK(mp_pool_apply(p, "thrower", nullptr, 0, &r), MP_OK);
  said_an_exception_escaped(r);
  mp_result_clear(&r);
  // The pool goes on: the next item runs on a replacement.
  int64_t x = 7;
  TU_CHECK(mp_pool_apply(p, "square", &x, sizeof x, &r), MP_OK);
  assert_int_equal(r.status, MP_OK);
  assert_true(*static_cast<int64_t *>(r.data) == 49);
  mp_result_clear(&r);
  TU_CHECK(mp_pool_apply(p, "escapes_inside_a_catch", nullptr, 0, &r), MP_OK);
  assert_int_equal(r.status, MP_OK);
  mp_result_clear(&r);
  mp_pool_free(p);
  assert_int_equal(*caught_in_a_child, 0);
}

static void in_a_process(void **state) {
  (void)state;
  mp_process *p = nullptr;
  TU_CHECK(mp_process_start(&p, "thrower", nullptr, 0, nullptr), MP_OK);
  TU_CHECK(mp_process_join(p, 60), MP_OK);
  mp_result r{};
  TU_CHECK(mp_process_result(p, &r), MP_OK);
  said_an_exception_escaped(r);
  mp_result_clear(&r);
  mp_process_free(p);
  assert_int_equal(*caught_in_a_child, 0);
}

int main(int argc, char **argv) {
  MP_REGISTER(thrower);
  MP_REGISTER(square);
  MP_REGISTER(escapes_inside_a_catch);
  tu_main(argc, argv);
  mp_shm *shm = nullptr;
  if (mp_shm_create(&shm, 4096) != MP_OK) return 2;
  caught_in_a_child = static_cast<volatile uint32_t *>(mp_shm_ptr(shm));
  parent_pid = mp_getpid();
  int rc = 1;
  try {
    const struct CMUnitTest tests[] = {
        TU_TEST(in_a_pool),
        TU_TEST(in_a_process),
    };
    rc = cmocka_run_group_tests(tests, nullptr, nullptr);
  } catch (...) {
    if (mp_getpid() != parent_pid) {
      // The parent's catch, running in a child: exactly what must not be.
      mp__atomic_add32(caught_in_a_child, 1);
      std::fprintf(stderr, "the parent's catch ran in child %lld\n", static_cast<long long>(mp_getpid()));
      mp__worker_exit(99);
    }
    throw;
  }
  mp_shm_free(shm);
  return rc;
}
