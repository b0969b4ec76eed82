// include/mproc.hpp, the C++17 wrappers: every wrapper, the codec rules,
// and every error path as the exception the header promises (unknown
// task, a result of the wrong size, a task that throws, a crash, a
// timeout, a cancel, a moved-from object). Each test runs under
// TU_TEST, so it must leave no handle open and no child behind: that is
// the RAII check.
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <list>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mproc.hpp"

extern "C" {
#include "testutil.h"
void mp__sleep(double seconds); // src/platform.h's (its inline atomics are C, not -Wold-style-cast C++)
}

// ------------------------------------------------------- a type of our own
struct label {
  std::string name;
  std::int32_t n = 0;
};
namespace mp {
// Not trivially copyable: travels as n, then the name's bytes.
template <> struct codec<label> {
  static void encode(const label &v, std::string &out) {
    codec<std::int32_t>::encode(v.n, out);
    out += v.name;
  }
  static label decode(const void *data, std::size_t len) {
    if (len < sizeof(std::int32_t)) throw decode_error("a label has at least 4 bytes");
    label v;
    std::memcpy(&v.n, data, sizeof v.n);
    v.name.assign(static_cast<const char *>(data) + sizeof v.n, len - sizeof v.n);
    return v;
  }
};
} // namespace mp

struct pair32 {
  std::int32_t a, b;
};

// Trivially copyable with no default constructor (a header-only attack
// found such a type did not compile).
struct point {
  point(std::int32_t x_, std::int32_t y_) : x(x_), y(y_) {}
  std::int32_t x, y;
};

// A codec that cannot encode 2: the attack's imap lost the items before a
// failure in the first batch and leaked the iterator.
struct picky {
  std::int32_t v;
};
namespace mp {
template <> struct codec<picky> {
  static void encode(const picky &x, std::string &out) {
    if (x.v == 2) throw std::runtime_error("cannot encode 2");
    out.append(reinterpret_cast<const char *>(&x.v), sizeof x.v);
  }
  static picky decode(const void *data, std::size_t len) {
    if (len != sizeof(std::int32_t)) throw decode_error("a picky is 4 bytes");
    picky x;
    std::memcpy(&x.v, data, sizeof x.v);
    return x;
  }
};
} // namespace mp

// ------------------------------------------------------------------ tasks
static long long square(long long x) { return x * x; }
static std::string upper(std::string s) {
  for (char &c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}
static double sum_vec(std::vector<double> v) {
  double s = 0;
  for (double d : v) s += d;
  return s;
}
static std::vector<std::int32_t> reversed(std::vector<std::int32_t> v) { return {v.rbegin(), v.rend()}; }
static label bump(label l) {
  l.n++;
  l.name += "!";
  return l;
}
static pair32 swap_pair(pair32 p) { return {p.b, p.a}; }
static int forty_two() { return 42; }
static point mirror(point p) { return point(p.y, p.x); }
static std::vector<point> mirror_all(std::vector<point> v) {
  std::vector<point> out;
  for (const point &p : v) out.push_back(mirror(p));
  return out;
}
static std::int32_t picky_twice(picky x) { return 2 * x.v; }
static void put_double(long long x, mp::context &ctx) { ctx.queue(0).put(x * 2); }
static std::int32_t small_result(long long x) { return static_cast<std::int32_t>(x); }
static long long fails_on_three(long long x) {
  if (x == 3) throw std::runtime_error("bad item " + std::to_string(x));
  return x * x;
}
static int throws_int() { throw 42; }
static int throws_mp_error() { throw mp::timeout_error("a timeout inside the task"); }
static int crasher() {
  tu_segfault();
  return 0;
}
static int sleeper(double seconds) {
  mp__sleep(seconds);
  return 1;
}
static std::size_t item_index(long long, mp::context &ctx) { return ctx.index(); }
static void echo_upper(mp::context &ctx) {
  mp::connection c = ctx.connection(0);
  c.send(upper(c.recv<std::string>(60)));
}
static void set_event(mp::context &ctx) { ctx.event(0).set(); }
static void write_shm(long long v, mp::context &ctx) { *ctx.shared_memory(0).as<long long>() = v; }
static void manager_write(long long n, mp::context &ctx) {
  mp::manager m = ctx.manager(0);
  m.dict("d").set("k" + std::to_string(n), n);
  m.dict("d").add("count", 1);
  m.list("l").append(std::string("item ") + std::to_string(n));
}
static unsigned barrier_party(mp::context &ctx) { return ctx.barrier(0).wait(60); }
static void locked_add(mp::context &ctx) {
  mp::lock l = ctx.lock(0);
  auto *counter = ctx.shared_memory(1).as<long long>();
  for (int i = 0; i < 1000; i++) {
    mp::lock_guard<mp::lock> hold(l);
    *counter += 1;
  }
}
static void wrong_kind(mp::context &ctx) { ctx.lock(0); } // object 0 is a queue
static void sem_release(mp::context &ctx) { ctx.semaphore(0).release(); }
static void notify_condition(mp::context &ctx) {
  mp::condition c = ctx.condition(0);
  auto *flag = ctx.shared_memory(1).as<int>();
  mp::lock_guard<mp::condition> hold(c);
  *flag = 1;
  c.notify_all();
}

static long long init_value = 0; // each worker's own, set by its initializer
static void init_worker(long long v) { init_value = v; }
static void init_fails() { throw std::runtime_error("no setup here"); }
static long long read_init() { return init_value; }
static const std::string &ref_result() { // a reference: the task gives a copy of the value
  static const std::string s = "by reference";
  return s;
}

MPROC_TASK(init_worker);
MPROC_TASK(init_fails);
MPROC_TASK(read_init);
MPROC_TASK(ref_result);
MPROC_TASK(square);
MPROC_TASK(upper);
MPROC_TASK(sum_vec);
MPROC_TASK(reversed);
MPROC_TASK(bump);
MPROC_TASK(swap_pair);
MPROC_TASK(forty_two);
MPROC_TASK(mirror);
MPROC_TASK(mirror_all);
MPROC_TASK(picky_twice);
MPROC_TASK(put_double);
MPROC_TASK(small_result);
MPROC_TASK(fails_on_three);
MPROC_TASK(throws_int);
MPROC_TASK(throws_mp_error);
MPROC_TASK(crasher);
MPROC_TASK(sleeper);
MPROC_TASK(item_index);
MPROC_TASK(echo_upper);
MPROC_TASK(set_event);
MPROC_TASK(write_shm);
MPROC_TASK(manager_write);
MPROC_TASK(barrier_party);
MPROC_TASK(locked_add);
MPROC_TASK(wrong_kind);
MPROC_TASK(sem_release);
MPROC_TASK(notify_condition);
MPROC_TASK_NAMED(square_again, "square_by_another_name", square);

// Runs f, which must throw E; returns its error's what().
#define EXPECT_THROW(E, stmt, want_code)                                                                       \
  do {                                                                                                         \
    bool thrown_ = false;                                                                                      \
    try {                                                                                                      \
      stmt;                                                                                                    \
    } catch (const E &e_) {                                                                                    \
      thrown_ = true;                                                                                          \
      if (e_.code() != (want_code)) fail_msg("%s: code %s, want %s (%s)", #stmt, e_.name(), mp_err_name(want_code), e_.what()); \
      last_what = e_.what();                                                                                   \
    } catch (const std::exception &x_) {                                                                       \
      fail_msg("%s threw the wrong type: %s", #stmt, x_.what());                                              \
    }                                                                                                          \
    if (!thrown_) fail_msg("%s did not throw " #E, #stmt);                                                     \
  } while (0)
static std::string last_what;
static void has(const std::string &text, const char *part) {
  if (text.find(part) == std::string::npos) fail_msg("\"%s\" does not say \"%s\"", text.c_str(), part);
}

static mp::pool small_pool(int workers = 2, double task_timeout = 0) {
  mp::pool_options o;
  o.workers = workers;
  o.task_timeout = task_timeout;
  return mp::pool(o);
}

// ------------------------------------------------------------------ tests
static void error_types(void **state) {
  (void)state;
  static_assert(std::is_base_of_v<mp::error, mp::task_error> && std::is_base_of_v<mp::error, mp::crashed_error> &&
                    std::is_base_of_v<mp::error, mp::timeout_error> &&
                    std::is_base_of_v<mp::error, mp::cancelled_error> &&
                    std::is_base_of_v<mp::error, mp::closed_error> && std::is_base_of_v<mp::error, mp::no_task_error> &&
                    std::is_base_of_v<mp::error, mp::not_found_error> && std::is_base_of_v<mp::error, mp::decode_error> &&
                    std::is_base_of_v<std::runtime_error, mp::error>,
                "the error classes");
  EXPECT_THROW(mp::timeout_error, mp::detail::raise(MP_ETIMEDOUT, "t"), MP_ETIMEDOUT);
  EXPECT_THROW(mp::crashed_error, mp::detail::raise(MP_ECRASHED, "c"), MP_ECRASHED);
  EXPECT_THROW(mp::cancelled_error, mp::detail::raise(MP_ECANCELLED, "x"), MP_ECANCELLED);
  EXPECT_THROW(mp::closed_error, mp::detail::raise(MP_ECLOSED, "x"), MP_ECLOSED);
  EXPECT_THROW(mp::no_task_error, mp::detail::raise(MP_ENOTASK, "x"), MP_ENOTASK);
  EXPECT_THROW(mp::not_found_error, mp::detail::raise(MP_ENOTFOUND, "x"), MP_ENOTFOUND);
  EXPECT_THROW(mp::task_error, mp::detail::raise(MP_ETASK, "x"), MP_ETASK);
  EXPECT_THROW(mp::error, mp::detail::raise(MP_ESYS, ""), MP_ESYS);
  assert_string_equal(last_what.c_str(), mp_strerror(MP_ESYS)); // no text: the code's words
  // A failed C call: its code and mp_last_error()'s sentence.
  EXPECT_THROW(mp::error, mp::shared_memory(0), MP_EINVAL);
  has(last_what, "mp_shm_create");
  mp::error e(MP_EFULL, "full");
  assert_int_equal(e.code(), MP_EFULL);
  assert_string_equal(e.name(), "MP_EFULL");
}

static void registration(void **state) {
  (void)state;
  // After mp::main, no task can be added (a spawned child would not know it).
  EXPECT_THROW(mp::error, mp::register_task<&square>("late_square"), MP_EBOOTSTRAP);
  has(last_what, "mp_register");
  assert_string_equal(square_task.name, "square");
  assert_string_equal(square_again.name, "square_by_another_name");
  mp::pool p = small_pool(1);
  assert_true(p.apply(square_again, 9) == 81);
  static_assert(std::is_same_v<decltype(square_task), const mp::task<long long, long long>>, "typed handle");
  static_assert(std::is_same_v<decltype(echo_upper_task), const mp::task<void, void>>, "context only");
  static_assert(std::is_same_v<decltype(put_double_task), const mp::task<void, long long>>, "arg and context");
}

static void codec_rules(void **state) {
  (void)state;
  assert_true(mp::decode<long long>(mp::encode(7LL).data(), 8) == 7);
  std::string b = mp::encode(std::string("a\0b", 3));
  assert_int_equal(b.size(), 3);
  assert_true(mp::decode<std::string>(b.data(), b.size()) == std::string("a\0b", 3));
  assert_true(mp::decode<std::string>(nullptr, 0).empty());
  std::vector<std::int16_t> v{1, -2, 3};
  b = mp::encode(v);
  assert_int_equal(b.size(), 6);
  assert_true(mp::decode<std::vector<std::int16_t>>(b.data(), b.size()) == v);
  assert_true(mp::decode<std::vector<std::int16_t>>(nullptr, 0).empty());
  label l{"x", 5};
  b = mp::encode(l);
  label back = mp::decode<label>(b.data(), b.size());
  assert_true(back.name == "x" && back.n == 5);
  // Bytes that do not make the type: mp::decode_error.
  EXPECT_THROW(mp::decode_error, mp::decode<long long>(b.data(), 3), MP_EINVAL);
  has(last_what, "3 bytes");
  EXPECT_THROW(mp::decode_error, (mp::decode<std::vector<std::int32_t>>(b.data(), 5)), MP_EINVAL);
  has(last_what, "whole number");
}

static void pool_apply_typed(void **state) {
  (void)state;
  mp::pool p = small_pool();
  assert_true(p.apply(square_task, 12) == 144); // an int literal, converted to the task's long long
  assert_true(p.apply(upper_task, std::string("hello")) == "HELLO");
  assert_true(p.apply(sum_vec_task, std::vector<double>{1.5, 2.5}) == 4.0);
  assert_true((p.apply(reversed_task, std::vector<std::int32_t>{1, 2, 3}) == std::vector<std::int32_t>{3, 2, 1}));
  assert_true(p.apply(reversed_task, std::vector<std::int32_t>{}).empty());
  label l = p.apply(bump_task, label{"hi", 1});
  assert_true(l.name == "hi!" && l.n == 2);
  pair32 sw = p.apply(swap_pair_task, pair32{1, 2});
  assert_true(sw.a == 2 && sw.b == 1);
  assert_int_equal(p.apply(forty_two_task), 42);
  // By name, the types given by the caller.
  assert_true(p.apply<long long>("square", 5LL) == 25);
  p.close();
  assert_true(p.join(60));
  // A closed pool refuses work: mp::error MP_ESTATE.
  EXPECT_THROW(mp::error, p.apply(square_task, 1), MP_ESTATE);
}

static void unknown_task(void **state) {
  (void)state;
  mp::pool p = small_pool(1);
  EXPECT_THROW(mp::no_task_error, p.apply<int>("no_such_task", 1), MP_ENOTASK);
  has(last_what, "no_such_task");
  EXPECT_THROW(mp::no_task_error, (p.apply_async<int>("no_such_task", 1)), MP_ENOTASK);
  EXPECT_THROW(mp::no_task_error, (p.map<int>("no_such_task", std::vector<int>{1, 2})), MP_ENOTASK);
  EXPECT_THROW(mp::no_task_error, (p.imap<int>("no_such_task", std::vector<int>{1, 2})), MP_ENOTASK);
  EXPECT_THROW(mp::no_task_error, mp::process("no_such_task", 1), MP_ENOTASK);
  // A callback given with a submit that fails is dropped, never run.
  int ran = 0;
  EXPECT_THROW(mp::no_task_error, (p.apply_async<int>("no_such_task", 1, [&](int) { ran++; })), MP_ENOTASK);
  assert_int_equal(ran, 0);
}

static void wrong_size(void **state) {
  (void)state;
  mp::pool p = small_pool(1);
  // The task gives 4 bytes; the caller asks for 8.
  EXPECT_THROW(mp::decode_error, p.apply<long long>("small_result", 3LL), MP_EINVAL);
  has(last_what, "4 bytes");
  EXPECT_THROW(mp::decode_error, (p.map<long long>("small_result", std::vector<long long>{1, 2})), MP_EINVAL);
  // The argument the wrong size for the task: its decode fails in the
  // child, so the task fails (with the codec's words).
  EXPECT_THROW(mp::task_error, p.apply<long long>("square", std::int32_t{3}), MP_ETASK);
  has(last_what, "4 bytes");
  EXPECT_THROW(mp::task_error, p.apply<int>("forty_two", 1), MP_ETASK);
  has(last_what, "no argument");
}

static void task_throws(void **state) {
  (void)state;
  mp::pool p = small_pool(1);
  try {
    p.apply(fails_on_three_task, 3);
    fail_msg("no exception");
  } catch (const mp::task_error &e) {
    assert_string_equal(e.what(), "bad item 3"); // the task's what(), as it was
    assert_int_equal(e.code(), MP_ETASK);
    assert_int_equal(e.task_code(), MP_ETASK);
  }
  EXPECT_THROW(mp::task_error, p.apply(throws_int_task), MP_ETASK);
  has(last_what, "not a std::exception");
  // An mp::error a task throws is its failure too, not the caller's timeout.
  EXPECT_THROW(mp::task_error, p.apply(throws_mp_error_task), MP_ETASK);
  assert_string_equal(last_what.c_str(), "a timeout inside the task");
  // The worker did not die of it: the same one goes on.
  assert_true(p.apply(square_task, 4) == 16);
  // In a process, and through a future.
  mp::process pr(fails_on_three_task, 3);
  EXPECT_THROW(mp::task_error, pr.get<long long>(), MP_ETASK);
  assert_string_equal(last_what.c_str(), "bad item 3");
  assert_int_equal(pr.exitcode(), 1);
  auto f = p.apply_async(fails_on_three_task, 3);
  EXPECT_THROW(mp::task_error, f.get(), MP_ETASK);
  assert_string_equal(last_what.c_str(), "bad item 3");
}

static void crash(void **state) {
  (void)state;
  mp::pool p = small_pool(1);
  EXPECT_THROW(mp::crashed_error, p.apply(crasher_task), MP_ECRASHED);
  has(last_what, "crasher");
  auto f = p.apply_async(crasher_task);
  EXPECT_THROW(mp::crashed_error, f.get(), MP_ECRASHED);
  assert_true(p.apply(square_task, 3) == 9); // a new worker
  mp::process pr(crasher_task);
  EXPECT_THROW(mp::crashed_error, pr.get<int>(), MP_ECRASHED);
  assert_true(pr.exitcode() != 0);
}

// mp::call_options: one call's limit, shorter or longer than the pool's.
static void call_timeouts(void **state) {
  (void)state;
  mp::pool p = small_pool(1, 0.3);
  EXPECT_THROW(mp::timeout_error, p.apply(mp::call_options{0.2}, sleeper_task, 60.0), MP_ETIMEDOUT);
  assert_int_equal(p.apply(mp::call_options{30}, sleeper_task, 0.6), 1); // over the pool's 0.3
  auto slow = p.apply_async(mp::call_options{0.2}, sleeper_task, 60.0);
  EXPECT_THROW(mp::timeout_error, slow.get(), MP_ETIMEDOUT);
  const std::vector<double> in{0.01, 0.6, 0.01};
  assert_true(p.map(mp::call_options{INFINITY}, sleeper_task, in).size() == 3);
  EXPECT_THROW(mp::timeout_error, p.map(mp::call_options{0.2}, sleeper_task, std::vector<double>{60.0}),
               MP_ETIMEDOUT);
  mp::imap_options io;
  io.timeout = 30;
  int n = 0;
  for (int v : p.imap(sleeper_task, in, io)) n += v;
  assert_int_equal(n, 3);
  EXPECT_THROW(mp::error, p.apply(mp::call_options{-1}, sleeper_task, 0.0), MP_EINVAL);
}

static void timeouts(void **state) {
  (void)state;
  {
    mp::pool p = small_pool(1, 0.3); // an item over 0.3 s is killed
    EXPECT_THROW(mp::timeout_error, p.apply(sleeper_task, 60.0), MP_ETIMEDOUT);
    assert_int_equal(p.apply(sleeper_task, 0.0), 1);
  }
  mp::pool p = small_pool(1);
  auto slow = p.apply_async(sleeper_task, 60.0);
  assert_false(slow.wait_for(std::chrono::milliseconds(20)));
  assert_false(slow.ready());
  assert_false(slow.wait_seconds(0));
  assert_true(slow.cancel());
  mp::queue q;
  EXPECT_THROW(mp::timeout_error, q.get<int>(0.05), MP_ETIMEDOUT);
  has(last_what, "mp_queue_get");
  EXPECT_THROW(mp::error, q.get<int>(0), MP_EEMPTY);
  assert_false(q.try_get<int>(0.01).has_value());
  mp::process pr(sleeper_task, 60.0);
  assert_false(pr.join(0.05));
  assert_true(pr.is_alive());
  EXPECT_THROW(mp::error, pr.exitcode(), MP_ESTATE);
  pr.kill();
  assert_true(pr.join(60));
  assert_int_equal(pr.exitcode(), -9);
  EXPECT_THROW(mp::crashed_error, pr.get<int>(), MP_ECRASHED);
}

static void cancel(void **state) {
  (void)state;
  mp::pool p = small_pool(1);
  auto slow = p.apply_async(sleeper_task, 60.0);
  auto queued = p.apply_async(square_task, 2); // behind it on the one worker
  // The queued one first: once the slow one is cancelled, the worker that
  // replaces its killed one may run the queued job at once.
  assert_true(queued.cancel());
  assert_true(slow.cancel());
  EXPECT_THROW(mp::cancelled_error, slow.get(), MP_ECANCELLED);
  EXPECT_THROW(mp::cancelled_error, queued.get(), MP_ECANCELLED);
  assert_true(slow.ready());
  auto done = p.apply_async(square_task, 5);
  assert_true(done.get() == 25);
  assert_false(done.cancel()); // already finished
  // Terminating the pool cancels what it had.
  auto cut = p.apply_async(sleeper_task, 60.0);
  p.terminate();
  EXPECT_THROW(mp::cancelled_error, cut.get(), MP_ECANCELLED);
  assert_true(p.join(60));
}

static void callbacks(void **state) {
  (void)state;
  mp::pool p = small_pool();
  std::atomic<long long> got{0};
  std::atomic<int> errors{0};
  std::string error_text; // written on the callback thread, read after the wait
  auto ok = p.apply_async(square_task, 7, [&](long long v) { got = v; });
  auto bad = p.apply_async(fails_on_three_task, 3, [&](long long) { got = -1; },
                           [&](const mp::error &e) {
                             errors++;
                             error_text = e.what();
                           });
  ok.wait(); // a job is ready once its callback has returned
  bad.wait();
  assert_true(got == 49);
  assert_int_equal(errors, 1);
  assert_string_equal(error_text.c_str(), "bad item 3");
  // A void task's callback takes nothing; a callback that throws is
  // reported on stderr, not carried into the pool's thread.
  std::atomic<int> ran{0};
  auto v = p.apply_async(forty_two_task, [&](int) {
    ran++;
    throw std::runtime_error("a callback that throws (expected in this test)");
  });
  v.wait();
  assert_int_equal(ran, 1);
  // Fire and forget: the callback still runs once the job is dropped.
  {
    mp::event done;
    mp_event *raw = done.get();
    { auto dropped = p.apply_async(square_task, 3, [raw](long long) { mp_event_set(raw); }); }
    assert_true(done.wait(60));
  }
}

static void map_ranges(void **state) {
  (void)state;
  mp::pool p = small_pool();
  std::vector<long long> in{1, 2, 3, 4, 5};
  assert_true((p.map(square_task, in) == std::vector<long long>{1, 4, 9, 16, 25}));
  assert_true((p.map(square_task, in, 2) == std::vector<long long>{1, 4, 9, 16, 25})); // chunksize
  std::list<std::string> words{"a", "bc"};
  assert_true((p.map(upper_task, words) == std::vector<std::string>{"A", "BC"}));
  std::array<int, 3> arr{1, 2, 3}; // ints, each converted to the task's long long
  assert_true((p.map(square_task, arr) == std::vector<long long>{1, 4, 9}));
  assert_true(p.map(square_task, std::vector<long long>{}).empty());
  assert_true((p.map(item_index_task, std::vector<long long>{9, 9, 9}) == std::vector<std::size_t>{0, 1, 2}));
  // The lowest-index failure, once every item ran.
  EXPECT_THROW(mp::task_error, p.map(fails_on_three_task, std::vector<long long>{1, 3, 5, 3}), MP_ETASK);
  assert_string_equal(last_what.c_str(), "bad item 3");
  EXPECT_THROW(mp::crashed_error, (p.map<int>("crasher", std::vector<std::string>{"", ""})), MP_ECRASHED);
}

static void map_async_and_initializers(void **state) {
  (void)state;
  mp::pool p = small_pool();
  auto job = p.map_async(square_task, std::vector<long long>{1, 2, 3});
  assert_true(job.wait_for(std::chrono::seconds(60)));
  assert_true(job.ready());
  assert_true((job.get() == std::vector<long long>{1, 4, 9}));
  auto bad = p.map_async(fails_on_three_task, std::vector<long long>{2, 3});
  EXPECT_THROW(mp::task_error, bad.get(), MP_ETASK);
  assert_string_equal(last_what.c_str(), "bad item 3");
  auto slow = p.map_async(sleeper_task, std::vector<double>{60.0, 60.0});
  assert_true(slow.cancel());
  EXPECT_THROW(mp::cancelled_error, slow.get(), MP_ECANCELLED);
  assert_true(p.map_async(square_task, std::vector<long long>{}).get().empty());
  EXPECT_THROW(mp::no_task_error, (p.map_async<int>("no_such_task", std::vector<int>{1})), MP_ENOTASK);
  assert_true(p.apply(ref_result_task) == "by reference");

  mp::pool_options o;
  o.workers = 1;
  o.init(init_worker_task, 77);
  mp::pool initialised(o);
  assert_true(initialised.apply(read_init_task) == 77);
  mp::pool_options f;
  f.workers = 1;
  f.init(init_fails_task);
  mp::pool broken(f); // a failed initializer breaks the pool: its tasks fail
  EXPECT_THROW(mp::task_error, broken.apply(read_init_task), MP_ETASK);
  has(last_what, "init_fails");
}

static void imap_ranges(void **state) {
  (void)state;
  mp::pool p = small_pool();
  std::vector<long long> got;
  for (long long v : p.imap(square_task, std::vector<long long>{1, 2, 3, 4})) got.push_back(v); // an rvalue, kept
  assert_true((got == std::vector<long long>{1, 4, 9, 16}));
  std::vector<int> in{5, 6, 7};
  auto results = p.imap(square_task, in); // an lvalue, read as the workers take it
  std::vector<std::size_t> indexes;
  got.clear();
  for (auto it = results.begin(); it != results.end(); ++it) {
    indexes.push_back(it.index());
    got.push_back(*it);
  }
  assert_true((got == std::vector<long long>{25, 36, 49}));
  assert_true((indexes == std::vector<std::size_t>{0, 1, 2}));
  std::set<long long> unordered;
  for (long long v : p.imap_unordered(square_task, std::vector<long long>{1, 2, 3})) unordered.insert(v);
  assert_true((unordered == std::set<long long>{1, 4, 9}));
  for (long long v : p.imap(square_task, std::vector<long long>{})) fail_msg("an item of nothing: %lld", v);
  // A failed item throws when the iteration reaches it, after the ones before.
  got.clear();
  try {
    for (long long v : p.imap(fails_on_three_task, std::vector<long long>{1, 2, 3, 4})) got.push_back(v);
    fail_msg("no exception");
  } catch (const mp::task_error &e) {
    assert_string_equal(e.what(), "bad item 3");
  }
  assert_true((got == std::vector<long long>{1, 4}));
  // next(): one at a time, with a timeout.
  auto one = p.imap(sleeper_task, std::vector<double>{60.0});
  EXPECT_THROW(mp::timeout_error, one.next(0.05), MP_ETIMEDOUT);
}

static void process_wrapper(void **state) {
  (void)state;
  mp::process p(square_task, 9);
  assert_true(p.pid() > 0);
  assert_true(p.join(60));
  assert_false(p.is_alive());
  assert_int_equal(p.exitcode(), 0);
  assert_true(p.get<long long>() == 81);
  mp::result r = p.outcome();
  assert_int_equal(r.status(), MP_OK);
  assert_int_equal(r.size(), sizeof(long long));
  assert_true(r.value<long long>() == 81);
  mp::process_options o;
  o.name = "named";
  // Valgrind cannot follow an exec of /proc/self/exe (test_bootstrap says
  // why): spawn is checked in every other leg.
  o.method = tu_under_valgrind() ? mp::start_method::automatic : mp::start_method::spawn;
  mp::process s(forty_two_task, o);
  assert_int_equal(s.get<int>(), 42);
  mp::process t(sleeper_task, 60.0);
  t.terminate();
  assert_true(t.join(60));
  assert_int_equal(t.exitcode(), -15);
  std::vector<mp::process> many;
  for (int i = 0; i < 3; i++) many.emplace_back("square", static_cast<long long>(i));
  for (int i = 0; i < 3; i++) assert_true(many[static_cast<std::size_t>(i)].get<long long>() == i * i);
}

static void queue_wrapper(void **state) {
  (void)state;
  mp::queue q;
  q.put(1LL);
  q.put(std::string("two"));
  q.put(std::vector<double>{3.0});
  assert_int_equal(q.qsize(), 3);
  assert_true(q.get<long long>() == 1);
  assert_true(q.get<std::string>() == "two");
  assert_true(q.get<std::vector<double>>(1) == std::vector<double>{3.0});
  mp::process_options o;
  o.objects = {q.obj()};
  mp::process p(put_double_task, 21, o);
  p.get();
  assert_true(q.get<long long>(60) == 42);
  q.close();
  EXPECT_THROW(mp::closed_error, q.get<int>(), MP_ECLOSED);
  EXPECT_THROW(mp::closed_error, q.put(1), MP_ECLOSED);
  assert_false(q.try_get<int>(mp::forever).has_value());
  // Bounded and joinable.
  mp::queue::options jo;
  jo.maxsize = 1;
  jo.joinable = true;
  mp::queue j(jo);
  j.put(1);
  EXPECT_THROW(mp::error, j.put(2, 0), MP_EFULL);
  EXPECT_THROW(mp::timeout_error, j.put(2, 0.02), MP_ETIMEDOUT);
  assert_false(j.join(0));
  assert_int_equal(j.get<int>(), 1);
  j.task_done();
  assert_true(j.join(0));
  EXPECT_THROW(mp::error, j.task_done(), MP_ESTATE);
  EXPECT_THROW(mp::error, q.task_done(), MP_ESTATE); // not joinable
}

static void pipe_wrapper(void **state) {
  (void)state;
  auto [a, b] = mp::pipe();
  mp::process_options o;
  o.objects = {b.obj()};
  mp::process p(echo_upper_task, o);
  a.send(std::string("shout"));
  assert_true(a.poll(60));
  assert_true(a.recv<std::string>(60) == "SHOUT");
  p.get();
  b.close(); // the last end of the peer (the child's went with it)
  assert_false(bool(b));
  EXPECT_THROW(mp::closed_error, a.recv<std::string>(60), MP_ECLOSED);
  auto [in, out] = mp::pipe(false); // in receives, out sends
  out.send(7);
  assert_int_equal(in.recv<int>(), 7);
  EXPECT_THROW(mp::error, in.send(1), MP_ESTATE);
  EXPECT_THROW(mp::timeout_error, in.recv<int>(0.02), MP_ETIMEDOUT);
  assert_false(in.poll(0));
}

static void locks(void **state) {
  (void)state;
  mp::lock l;
  assert_true(l.acquire());
  assert_false(l.previous_owner_died());
  EXPECT_THROW(mp::error, l.acquire(0), MP_ESTATE); // this thread holds the plain lock
  l.release();
  EXPECT_THROW(mp::error, l.release(), MP_ESTATE);
  mp::lock r = mp::rlock();
  assert_true(r.acquire());
  assert_true(r.acquire(0));
  r.release();
  r.release();
  { mp::lock_guard<mp::lock> hold(l); }
  assert_true(l.acquire(0)); // the guard let it go
  l.release();
  // Across processes: the counter stays exact.
  mp::shared_memory counter(sizeof(long long));
  mp::process_options o;
  o.objects = {l.obj(), counter.obj()};
  std::vector<mp::process> ps;
  for (int i = 0; i < 3; i++) ps.emplace_back(locked_add_task, o);
  for (auto &p : ps) p.get();
  assert_true(*counter.as<long long>() == 3000);

  mp::semaphore s(1, 2);
  assert_int_equal(s.value(), 1);
  assert_true(s.acquire());
  assert_false(s.acquire(0));
  s.release();
  s.release();
  EXPECT_THROW(mp::error, s.release(), MP_EFULL); // bounded at 2
  mp::semaphore z(0);
  mp::process_options so;
  so.objects = {z.obj()};
  mp::process rel(sem_release_task, so);
  assert_true(z.acquire(60));
  rel.get();
  EXPECT_THROW(mp::error, mp::semaphore(3, 2), MP_EINVAL);
}

static void events_barriers_conditions(void **state) {
  (void)state;
  mp::event e;
  assert_false(e.is_set());
  assert_false(e.wait(0.01));
  mp::process_options o;
  o.objects = {e.obj()};
  mp::process p(set_event_task, o);
  assert_true(e.wait(60));
  assert_true(e.is_set());
  e.clear();
  assert_false(e.is_set());
  p.get();

  mp::barrier one(1);
  assert_int_equal(one.wait(), 0);
  mp::barrier two(2);
  mp::process_options bo;
  bo.objects = {two.obj()};
  mp::process party(barrier_party_task, bo);
  unsigned mine = two.wait(60);
  unsigned theirs = party.get<unsigned>();
  assert_true(mine + theirs == 1);
  EXPECT_THROW(mp::timeout_error, two.wait(0.02), MP_ETIMEDOUT); // breaks it
  EXPECT_THROW(mp::error, two.wait(0), MP_ESTATE);
  two.reset();
  two.abort();
  EXPECT_THROW(mp::error, two.wait(0), MP_ESTATE);
  EXPECT_THROW(mp::error, mp::barrier(0), MP_EINVAL);

  mp::condition c; // its own RLock
  mp::shared_memory flag(sizeof(int));
  mp::process_options co;
  co.objects = {c.obj(), flag.obj()};
  {
    mp::lock_guard<mp::condition> hold(c);
    mp::process n(notify_condition_task, co);
    assert_true(c.wait_for([&] { return *flag.as<int>() == 1; }, 60));
    n.get();
    assert_false(c.wait(0.01));
    // An exception of the predicate comes out of wait_for.
    try {
      c.wait_for([]() -> bool { throw std::logic_error("pred"); }, 1);
      fail_msg("no exception");
    } catch (const std::logic_error &x) {
      assert_string_equal(x.what(), "pred");
    }
    c.notify();
    c.notify_all();
  }
  EXPECT_THROW(mp::error, c.notify(), MP_ESTATE); // the lock is not held
  mp::lock given;
  mp::condition around(given);
  assert_true(around.acquire(0));
  EXPECT_THROW(mp::error, given.acquire(0), MP_ESTATE); // the same lock, held by this thread
  around.release();
}

static void shared_memory_wrapper(void **state) {
  (void)state;
  mp::shared_memory m(64);
  assert_true(m.size() >= 64);
  assert_non_null(m.data());
  assert_true(*m.as<long long>() == 0); // zero-filled
  mp::process_options o;
  o.objects = {m.obj()};
  mp::process p(write_shm_task, 1234, o);
  p.get();
  assert_true(*m.as<long long>() == 1234);
  struct big {
    char bytes[1 << 16];
  };
  EXPECT_THROW(mp::error, m.as<big>(), MP_EINVAL);
}

static void manager_wrapper(void **state) {
  (void)state;
  mp::manager m;
  mp::dict d = m.dict("d");
  d.set("a", 1LL);
  d.set("s", std::string("text"));
  assert_true(d.get<long long>("a") == 1);
  assert_true(d.get<std::string>("s") == "text");
  assert_false(d.try_get<int>("missing").has_value());
  EXPECT_THROW(mp::not_found_error, d.get<int>("missing"), MP_ENOTFOUND);
  assert_int_equal(d.size(), 2);
  assert_true(d.erase("s"));
  assert_false(d.erase("s"));
  assert_true(d.add("n", 5) == 5);
  assert_true(d.add("n", -2) == 3);
  EXPECT_THROW(mp::error, d.add("a", INT64_MAX), MP_EINVAL); // it would overflow
  d.set("three", std::string("abc"));
  EXPECT_THROW(mp::error, d.add("three", 1), MP_EINVAL); // not 8 bytes
  assert_true(d.erase("three"));
  mp::list l = m.list("l");
  l.append(std::string("zero"));
  assert_int_equal(l.size(), 1);
  assert_true(l.get<std::string>(0) == "zero");
  EXPECT_THROW(mp::not_found_error, l.get<std::string>(5), MP_ENOTFOUND);
  mp::process_options o;
  o.objects = {m.obj()};
  std::vector<mp::process> ps;
  for (long long n = 0; n < 3; n++) ps.emplace_back(manager_write_task, n, o);
  for (auto &p : ps) p.get();
  assert_true(d.get<long long>("k2") == 2);
  assert_true(d.get<long long>("count") == 3);
  assert_int_equal(l.size(), 4);
  m.shutdown();
  EXPECT_THROW(mp::closed_error, d.size(), MP_ECLOSED); // a proxy outliving its server
}

static void context_errors(void **state) {
  (void)state;
  mp::queue q;
  mp::process_options o;
  o.objects = {q.obj()};
  mp::process p(wrong_kind_task, o);
  EXPECT_THROW(mp::task_error, p.get(), MP_ETASK);
  has(last_what, "mp_call_lock");
  mp::process none(echo_upper_task); // no objects at all
  EXPECT_THROW(mp::task_error, none.get(), MP_ETASK);
  has(last_what, "mp_call_conn");
}

template <class T> static void movable_not_copyable() {
  static_assert(!std::is_copy_constructible_v<T> && !std::is_copy_assignable_v<T>, "not copyable");
  static_assert(std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_assignable_v<T>, "movable");
}

static void moved_from(void **state) {
  (void)state;
  movable_not_copyable<mp::pool>();
  movable_not_copyable<mp::process>();
  movable_not_copyable<mp::queue>();
  movable_not_copyable<mp::connection>();
  movable_not_copyable<mp::lock>();
  movable_not_copyable<mp::semaphore>();
  movable_not_copyable<mp::event>();
  movable_not_copyable<mp::barrier>();
  movable_not_copyable<mp::condition>();
  movable_not_copyable<mp::shared_memory>();
  movable_not_copyable<mp::manager>();
  movable_not_copyable<mp::dict>();
  movable_not_copyable<mp::list>();
  movable_not_copyable<mp::result>();
  movable_not_copyable<mp::async_result<int>>();
  movable_not_copyable<mp::async_map<int>>();
  movable_not_copyable<mp::imap_range<int>>();

  mp::queue q;
  mp::queue q2 = std::move(q);
  assert_false(bool(q));
  assert_true(bool(q2));
  EXPECT_THROW(mp::error, q.put(1), MP_EINVAL);
  has(last_what, "mp_queue_put");
  EXPECT_THROW(mp::error, q.get<int>(), MP_EINVAL);
  mp::queue q3;
  q3 = std::move(q2); // q3's own queue is freed (the teardown counts handles)
  q3.put(5);
  assert_int_equal(q3.get<int>(), 5);

  mp::pool p = small_pool(1);
  mp::pool p2 = std::move(p);
  assert_false(bool(p));
  EXPECT_THROW(mp::error, p.apply(square_task, 1), MP_EINVAL);
  assert_true(p2.apply(square_task, 2) == 4);

  mp::process pr(square_task, 3);
  mp::process pr2 = std::move(pr);
  EXPECT_THROW(mp::error, pr.join(), MP_EINVAL);
  assert_true(pr2.get<long long>() == 9);

  auto f = p2.apply_async(square_task, 4);
  auto f2 = std::move(f);
  assert_false(f.valid());
  EXPECT_THROW(mp::error, f.get(), MP_EINVAL);
  assert_true(f2.get() == 16);

  mp::lock l;
  mp::lock l2 = std::move(l);
  EXPECT_THROW(mp::error, l.acquire(), MP_EINVAL);
  mp::event e;
  mp::event e2 = std::move(e);
  EXPECT_THROW(mp::error, e.set(), MP_EINVAL);
  assert_false(e.is_set()); // a predicate: no exception
  mp::semaphore s;
  mp::semaphore s2 = std::move(s);
  EXPECT_THROW(mp::error, s.release(), MP_EINVAL);
  mp::barrier b(1);
  mp::barrier b2 = std::move(b);
  EXPECT_THROW(mp::error, b.wait(), MP_EINVAL);
  mp::condition c;
  mp::condition c2 = std::move(c);
  EXPECT_THROW(mp::error, c.notify(), MP_EINVAL);
  mp::shared_memory m(8);
  mp::shared_memory m2 = std::move(m);
  assert_int_equal(m.size(), 0);
  assert_null(m.data());
  auto [a, z] = mp::pipe();
  mp::connection a2 = std::move(a);
  EXPECT_THROW(mp::error, a.send(1), MP_EINVAL);
  assert_true(a.poll(0)); // a predicate: a receive would fail at once
  mp::manager mg;
  mp::dict d = mg.dict("x");
  mp::dict d2 = std::move(d);
  EXPECT_THROW(mp::error, d.size(), MP_EINVAL);
  mp::list li = mg.list("x");
  mp::list li2 = std::move(li);
  EXPECT_THROW(mp::error, li.size(), MP_EINVAL);
  mp::manager mg2 = std::move(mg);
  EXPECT_THROW(mp::error, mg.dict("y"), MP_EINVAL);
  auto it = p2.imap(square_task, std::vector<long long>{1});
  auto it2 = std::move(it);
  EXPECT_THROW(mp::error, it.next(), MP_EINVAL);
  assert_true(it2.next()->second == 1);
}

// cmocka is C: an exception escaping a test would end the suite in
// std::terminate. Each test runs inside this, which fails it instead
// (outside the catch: fail_msg leaves by longjmp).
template <void (*Test)(void **)> static void guarded(void **state) {
  std::string escaped;
  try {
    Test(state);
  } catch (const std::exception &e) {
    escaped = e.what();
  } catch (...) {
    escaped = "an exception that is not a std::exception";
  }
  if (!escaped.empty()) fail_msg("an exception escaped the test: %s", escaped.c_str());
}
// From a header-only attack on mproc.hpp (each failed before its fix).
static void attack_findings(void **state) {
  (void)state;
  mp::pool pool = small_pool(1);
  // A trivially copyable type without a default constructor, alone and in
  // a vector.
  point p = pool.apply(mirror_task, point(3, 7));
  assert_int_equal(p.x, 7);
  assert_int_equal(p.y, 3);
  std::vector<point> v = pool.apply(mirror_all_task, std::vector<point>{point(1, 2), point(3, 4)});
  assert_int_equal(v.size(), 2);
  assert_int_equal(v[1].x, 4);
  // A byte other than 0 or 1 is no bool: decode_error, not undefined.
  const unsigned char five = 5, one = 1;
  EXPECT_THROW(mp::decode_error, mp::decode<bool>(&five, 1), MP_EINVAL);
  assert_true(mp::decode<bool>(&one, 1));
  // imap: an item that fails to encode in the first batch throws when the
  // iteration reaches it, after the items before it.
  std::vector<picky> in{{0}, {1}, {2}, {3}};
  int got = 0;
  bool threw = false;
  try {
    for (std::int32_t r : pool.imap(picky_twice_task, in)) {
      assert_int_equal(r, 2 * got);
      got++;
    }
  } catch (const std::runtime_error &e) {
    threw = true;
    has(e.what(), "cannot encode 2");
  }
  assert_true(threw);
  assert_int_equal(got, 2);
}

#define CXX_TEST(f) {#f, guarded<f>, tu_setup, tu_teardown, nullptr} // TU_TEST(f), guarded

int main(int argc, char **argv) {
  if (mp::detail::registration().code != MP_OK) {
    std::fprintf(stderr, "MPROC_TASK: %s\n", mp::detail::registration().text.c_str());
    return 2;
  }
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      CXX_TEST(error_types),
      CXX_TEST(registration),
      CXX_TEST(codec_rules),
      CXX_TEST(pool_apply_typed),
      CXX_TEST(unknown_task),
      CXX_TEST(wrong_size),
      CXX_TEST(task_throws),
      CXX_TEST(crash),
      CXX_TEST(timeouts),
      CXX_TEST(call_timeouts),
      CXX_TEST(cancel),
      CXX_TEST(callbacks),
      CXX_TEST(map_ranges),
      CXX_TEST(map_async_and_initializers),
      CXX_TEST(imap_ranges),
      CXX_TEST(process_wrapper),
      CXX_TEST(queue_wrapper),
      CXX_TEST(pipe_wrapper),
      CXX_TEST(locks),
      CXX_TEST(events_barriers_conditions),
      CXX_TEST(shared_memory_wrapper),
      CXX_TEST(manager_wrapper),
      CXX_TEST(context_errors),
      CXX_TEST(moved_from),
      CXX_TEST(attack_findings),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
