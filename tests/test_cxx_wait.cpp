// include/mproc/wait.hpp: mp::wait over a mixed list, mp::as_completed
// over futures, mp::pollable_handle, and the errors they throw.
#include <cstdint>
#include <set>
#include <vector>

#include "mproc.hpp"

extern "C" {
#include "testutil.h"
void mp__sleep(double seconds); // src/platform.h's
}

static int nap_ms(int ms) {
  mp__sleep(ms / 1000.0);
  return ms;
}
MPROC_TASK(nap_ms);

static void wait_over_a_mixed_list(void **state) {
  (void)state;
  mp::pool pool;
  mp::queue q;
  auto ends = mp::pipe(false);
  mp::async_result<int> slow = pool.apply_async(nap_ms_task, 20000);
  mp::process proc(nap_ms_task, 20000);
  // Nothing ready: empty, at once and after a short wait.
  assert_true(mp::wait({slow, proc, ends.first, q}, 0).empty());
  assert_true(mp::wait({slow, proc, ends.first, q}, 0.05).empty());
  q.put(std::string("x"));
  std::vector<std::size_t> ready = mp::wait({slow, proc, ends.first, q}, 30);
  assert_int_equal(ready.size(), 1);
  assert_int_equal(ready[0], 3);
  ends.second.send(7);
  ready = mp::wait({slow, proc, ends.first}, 30);
  assert_int_equal(ready.size(), 1);
  assert_int_equal(ready[0], 2);
  assert_int_equal(ends.first.recv<int>(), 7);
  proc.kill();
  ready = mp::wait({slow, proc}, 30);
  assert_int_equal(ready.size(), 1);
  assert_int_equal(ready[0], 1);
  assert_true(proc.join(30));
  // Errors throw: one object twice, a moved-from one, a sending end.
  bool threw = false;
  try {
    (void)mp::wait({q, q}, 0);
  } catch (const mp::error &e) {
    threw = e.code() == MP_EINVAL;
  }
  assert_true(threw);
  mp::queue gone(std::move(q));
  threw = false;
  try {
    (void)mp::wait({q}, 0);
  } catch (const mp::error &e) {
    threw = e.code() == MP_EINVAL;
  }
  assert_true(threw);
  threw = false;
  try {
    (void)mp::wait({ends.second}, 0);
  } catch (const mp::error &e) {
    threw = e.code() == MP_ESTATE;
  }
  assert_true(threw);
  assert_true(slow.cancel());
}

static void as_completed_over_futures(void **state) {
  (void)state;
  mp::pool pool;
  std::vector<mp::async_result<int>> futures;
  for (int i = 0; i < 40; i++) futures.push_back(pool.apply_async(nap_ms_task, (i * 13) % 30));
  std::multiset<int> got;
  std::set<const void *> seen;
  mp::as_completed(futures, [&](mp::async_result<int> &f) {
    assert_true(f.ready());
    assert_true(seen.insert(&f).second); // each once
    got.insert(f.get());
  });
  assert_int_equal(got.size(), 40);
  for (int i = 0; i < 40; i++) assert_true(got.count((i * 13) % 30) >= 1);
  // A timeout that runs out throws, the futures not yet handed over
  // being those not ready.
  std::vector<mp::async_result<int>> slow;
  slow.push_back(pool.apply_async(nap_ms_task, 20000));
  bool threw = false;
  try {
    mp::as_completed(slow, [](mp::async_result<int> &) {}, 0.05);
  } catch (const mp::timeout_error &) {
    threw = true;
  }
  assert_true(threw);
  assert_true(slow[0].cancel());
  // The pool's handle is there, and the same each time.
  assert_true(mp::pollable_handle(pool) == mp::pollable_handle(pool));
}

int main(int argc, char **argv) {
  if (mp::detail::registration().code != MP_OK) return 2;
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(wait_over_a_mixed_list, tu_setup, tu_teardown),
      cmocka_unit_test_setup_teardown(as_completed_over_futures, tu_setup, tu_teardown),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
