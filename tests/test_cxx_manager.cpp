// include/mproc/manager.hpp: mp::dict's and mp::list's wrappers of the
// manager's newer calls (contains, keys, items, pop, setdefault, clear,
// update; list set, insert, pop, erase, extend), each with its error paths
// as the exception the header promises: a missing key and an index out of
// range are mp::not_found_error, bytes of the wrong size mp::decode_error
// (the buffer freed all the same: ASan and valgrind run this suite), a
// source of another manager or a moved-from proxy mp::error MP_EINVAL, a
// server that is gone mp::closed_error. Each test runs under TU_TEST's
// setup and teardown: no handle left open, no child behind.
#include <cstdint>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "mproc.hpp"

extern "C" {
#include "testutil.h"
}

// ------------------------------------------------------------------ tasks
// Pops items off the list "work" until it is empty: their sum, and each
// item's value recorded as a key of the dict "seen" (setdefault: a second
// pop of one item would find the key there and fail the task).
static std::int64_t drain(mp::context &ctx) {
  mp::manager m = ctx.manager(0);
  mp::list work = m.list("work");
  mp::dict seen = m.dict("seen");
  std::int64_t sum = 0;
  for (;;) {
    std::int64_t v = 0;
    try {
      v = work.pop<std::int64_t>();
    } catch (const mp::not_found_error &) {
      return sum; // empty: the others took the rest
    }
    const std::int64_t me = mp::getpid();
    if (seen.setdefault("item-" + std::to_string(v), me) != me)
      throw std::runtime_error("item " + std::to_string(v) + " popped twice");
    sum += v;
  }
}
// setdefault's race: every child reads the one value that stayed.
static std::int64_t claim(std::int64_t n, mp::context &ctx) { return ctx.manager(0).dict("race").setdefault("winner", n); }
// dict pop's race: of the children popping one key, one gets it.
static std::int64_t take(mp::context &ctx) { return ctx.manager(0).dict("prize").pop<std::int64_t>("only", -1); }
MPROC_TASK(drain);
MPROC_TASK(claim);
MPROC_TASK(take);

// Runs stmt, which must throw E with code want_code (its what() kept in
// last_what).
#define EXPECT_THROW(E, stmt, want_code)                                                                       \
  do {                                                                                                         \
    bool thrown_ = false;                                                                                      \
    try {                                                                                                      \
      stmt;                                                                                                    \
    } catch (const E &e_) {                                                                                    \
      thrown_ = true;                                                                                          \
      if (e_.code() != (want_code))                                                                            \
        fail_msg("%s: code %s, want %s (%s)", #stmt, e_.name(), mp_err_name(want_code), e_.what());            \
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
using strings = std::vector<std::string>;
static void same_keys(const mp::dict &d, const strings &want) {
  const strings got = d.keys();
  if (got != want) {
    std::string g;
    for (const auto &k : got) g += k + " ";
    fail_msg("keys: %s(%zu of them, want %zu)", g.c_str(), got.size(), want.size());
  }
}
template <class T> static std::vector<T> all_of(mp::list &l) {
  std::vector<T> out;
  for (std::size_t i = 0, n = l.size(); i < n; i++) out.push_back(l.get<T>(i));
  return out;
}

// ------------------------------------------------------------------ tests
static void dict_contains_and_pop(void **state) {
  (void)state;
  mp::manager m;
  mp::dict d = m.dict("d");
  assert_false(d.contains("a"));
  d.set("a", std::int64_t{7});
  d.set("s", std::string("text"));
  assert_true(d.contains("a"));
  assert_false(d.contains("A")); // keys are exact
  // pop: the value, and the key is gone.
  assert_true(d.pop<std::int64_t>("a") == 7);
  assert_false(d.contains("a"));
  EXPECT_THROW(mp::not_found_error, d.pop<std::int64_t>("a"), MP_ENOTFOUND);
  has(last_what, "mp_dict_pop");
  // pop with a default: the default for a missing key, nothing added...
  assert_true(d.pop<std::int64_t>("a", -1) == -1);
  assert_false(d.contains("a"));
  // ...and the value for one that is there, removed.
  assert_true(d.pop("s", std::string("dflt")) == "text");
  assert_false(d.contains("s"));
  // An empty value pops as itself, not as missing.
  d.set("empty", std::string());
  assert_true(d.pop("empty", std::string("dflt")).empty());
  // Bytes that do not make the type: decode_error. The server removed the
  // key all the same (the pop was done), and the buffer was freed.
  d.set("three", std::string("abc"));
  EXPECT_THROW(mp::decode_error, d.pop<std::int64_t>("three"), MP_EINVAL);
  has(last_what, "3 bytes");
  assert_false(d.contains("three"));
  d.set("three", std::string("abc"));
  EXPECT_THROW(mp::decode_error, d.pop<std::int64_t>("three", 0), MP_EINVAL);
  assert_int_equal(d.size(), 0);
}

static void dict_setdefault(void **state) {
  (void)state;
  mp::manager m;
  mp::dict d = m.dict("d");
  // A new key: set to the default, which comes back.
  assert_true(d.setdefault("n", std::int64_t{5}) == 5);
  assert_true(d.get<std::int64_t>("n") == 5);
  // A key that is there: its value comes back and stays.
  assert_true(d.setdefault("n", std::int64_t{9}) == 5);
  assert_true(d.get<std::int64_t>("n") == 5);
  assert_true(d.setdefault("s", std::string("first")) == "first");
  assert_true(d.setdefault("s", std::string("second")) == "first");
  // The value there does not make the type asked for: decode_error, and
  // the value is untouched.
  EXPECT_THROW(mp::decode_error, d.setdefault("s", std::int64_t{1}), MP_EINVAL);
  assert_true(d.get<std::string>("s") == "first");
  assert_int_equal(d.size(), 2);
  // A key over MP_MANAGER_KEY_MAX: the C call's MP_EINVAL.
  EXPECT_THROW(mp::error, d.setdefault(std::string(MP_MANAGER_KEY_MAX + 1, 'k'), 1), MP_EINVAL);
}

static void dict_keys_items_clear(void **state) {
  (void)state;
  mp::manager m;
  mp::dict d = m.dict("d");
  assert_true(d.keys().empty());
  assert_true(d.items<std::int64_t>().empty());
  d.set("b", std::int64_t{2});
  d.set("a", std::int64_t{1});
  d.set("c", std::int64_t{3});
  d.set("b", std::int64_t{20}); // a key set again keeps its place
  same_keys(d, {"b", "a", "c"});
  const auto items = d.items<std::int64_t>();
  const std::vector<std::pair<std::string, std::int64_t>> want{{"b", 20}, {"a", 1}, {"c", 3}};
  assert_true(items == want);
  // A key of any bytes but NUL, and a value of 0 bytes.
  d.set("sp ace/\x7f", std::string());
  same_keys(d, {"b", "a", "c", "sp ace/\x7f"});
  // One value that does not make a T: the whole call is decode_error.
  EXPECT_THROW(mp::decode_error, d.items<std::int64_t>(), MP_EINVAL);
  assert_true(d.erase("sp ace/\x7f"));
  // Strings: their bytes, NULs too.
  mp::dict s = m.dict("s");
  s.set("z", std::string("a\0b", 3));
  const auto si = s.items<std::string>();
  assert_int_equal(si.size(), 1);
  assert_true(si[0].first == "z" && si[0].second == std::string("a\0b", 3));
  // clear: nothing left, and the dict is usable (and clear again is fine).
  d.clear();
  assert_int_equal(d.size(), 0);
  assert_true(d.keys().empty());
  d.clear();
  d.set("again", std::int64_t{1});
  same_keys(d, {"again"});
}

static void dict_update(void **state) {
  (void)state;
  mp::manager m;
  mp::dict dst = m.dict("dst");
  mp::dict src = m.dict("src");
  dst.set("x", std::int64_t{1});
  dst.set("y", std::int64_t{2});
  src.set("new", std::int64_t{30});
  src.set("x", std::int64_t{10});
  dst.update(src); // x keeps its place with src's value; new comes at the end
  same_keys(dst, {"x", "y", "new"});
  assert_true(dst.get<std::int64_t>("x") == 10);
  assert_true(dst.get<std::int64_t>("new") == 30);
  same_keys(src, {"new", "x"}); // src is unchanged
  dst.update(dst);                // itself: nothing changes
  same_keys(dst, {"x", "y", "new"});
  dst.update(m.dict("empty")); // nothing to add
  assert_int_equal(dst.size(), 3);
  // The dicts share nothing after the update: a value is a copy.
  src.set("x", std::int64_t{11});
  assert_true(dst.get<std::int64_t>("x") == 10);
  // A dict of another manager: the C call's MP_EINVAL, dst unchanged.
  mp::manager other;
  mp::dict foreign = other.dict("src");
  foreign.set("f", std::int64_t{1});
  EXPECT_THROW(mp::error, dst.update(foreign), MP_EINVAL);
  assert_false(dst.contains("f"));
  // A moved-from source holds nothing: MP_EINVAL too.
  mp::dict gone = std::move(foreign);
  EXPECT_THROW(mp::error, dst.update(foreign), MP_EINVAL);
}

static void list_set_insert(void **state) {
  (void)state;
  mp::manager m;
  mp::list l = m.list("l");
  EXPECT_THROW(mp::not_found_error, l.set(0, std::int64_t{1}), MP_ENOTFOUND); // empty
  has(last_what, "mp_list_set");
  l.append(std::int64_t{1});
  l.append(std::int64_t{2});
  l.set(1, std::int64_t{20});
  assert_true(all_of<std::int64_t>(l) == (std::vector<std::int64_t>{1, 20}));
  EXPECT_THROW(mp::not_found_error, l.set(2, std::int64_t{3}), MP_ENOTFOUND); // past the end
  EXPECT_THROW(mp::not_found_error, l.set(mp::list::last, std::int64_t{3}), MP_ENOTFOUND);
  // insert: before item i; at or past the end appends.
  l.insert(0, std::int64_t{0});
  l.insert(2, std::int64_t{10});
  l.insert(4, std::int64_t{30});
  l.insert(100, std::int64_t{40});
  assert_true(all_of<std::int64_t>(l) == (std::vector<std::int64_t>{0, 1, 10, 20, 30, 40}));
  // A value of another type set in place: it decodes as its own type only.
  l.set(0, std::string("zero"));
  assert_true(l.get<std::string>(0) == "zero");
  EXPECT_THROW(mp::decode_error, l.get<std::int64_t>(0), MP_EINVAL);
}

static void list_pop_erase(void **state) {
  (void)state;
  mp::manager m;
  mp::list l = m.list("l");
  EXPECT_THROW(mp::not_found_error, l.pop<std::int64_t>(), MP_ENOTFOUND); // empty
  has(last_what, "mp_list_pop");
  for (std::int64_t v = 0; v < 5; v++) l.append(v);
  assert_true(l.pop<std::int64_t>() == 4); // the last by default
  assert_true(l.pop<std::int64_t>(mp::list::last) == 3);
  assert_true(l.pop<std::int64_t>(0) == 0);
  assert_true(all_of<std::int64_t>(l) == (std::vector<std::int64_t>{1, 2}));
  EXPECT_THROW(mp::not_found_error, l.pop<std::int64_t>(2), MP_ENOTFOUND); // past the end
  assert_int_equal(l.size(), 2);
  // Bytes that do not make the type: decode_error; the item was taken.
  l.append(std::string("abc"));
  EXPECT_THROW(mp::decode_error, l.pop<std::int64_t>(), MP_EINVAL);
  assert_int_equal(l.size(), 2);
  // erase: true, or false past the end (list::last is past the end here).
  assert_false(l.erase(2));
  assert_false(l.erase(mp::list::last));
  assert_true(l.erase(0));
  assert_true(all_of<std::int64_t>(l) == (std::vector<std::int64_t>{2}));
  assert_true(l.erase(0));
  assert_false(l.erase(0));
  assert_int_equal(l.size(), 0);
}

static void list_extend(void **state) {
  (void)state;
  mp::manager m;
  mp::list l = m.list("l");
  mp::list src = m.list("src");
  l.append(std::int64_t{1});
  src.append(std::int64_t{2});
  src.append(std::int64_t{3});
  l.extend(src);
  assert_true(all_of<std::int64_t>(l) == (std::vector<std::int64_t>{1, 2, 3}));
  assert_int_equal(src.size(), 2); // src is unchanged
  l.extend(l);                     // itself: it doubles
  assert_true(all_of<std::int64_t>(l) == (std::vector<std::int64_t>{1, 2, 3, 1, 2, 3}));
  l.extend(m.list("empty"));
  assert_int_equal(l.size(), 6);
  // A list of another manager: MP_EINVAL, l unchanged; a moved-from one too.
  mp::manager other;
  mp::list foreign = other.list("src");
  foreign.append(std::int64_t{9});
  EXPECT_THROW(mp::error, l.extend(foreign), MP_EINVAL);
  assert_int_equal(l.size(), 6);
  mp::list gone = std::move(foreign);
  EXPECT_THROW(mp::error, l.extend(foreign), MP_EINVAL);
}

// Children pop and setdefault at once: each item goes to one of them, one
// setdefault value stays and every child reads it, one pop of a key wins.
static void across_processes(void **state) {
  (void)state;
  mp::manager m;
  mp::list work = m.list("work");
  const std::int64_t items = 200;
  std::int64_t want = 0;
  for (std::int64_t v = 1; v <= items; v++) {
    work.append(v);
    want += v;
  }
  m.dict("prize").set("only", std::int64_t{77});
  mp::process_options o;
  o.objects = {m.obj()};
  std::vector<mp::process> drains, claims, takes;
  for (int i = 0; i < 3; i++) drains.emplace_back(drain_task, o);
  for (std::int64_t n = 1; n <= 3; n++) claims.emplace_back(claim_task, n, o);
  for (int i = 0; i < 3; i++) takes.emplace_back(take_task, o);
  std::int64_t sum = 0;
  for (auto &p : drains) sum += p.get<std::int64_t>();
  assert_true(sum == want);
  assert_int_equal(work.size(), 0);
  assert_int_equal(m.dict("seen").size(), items);
  std::vector<std::int64_t> read;
  for (auto &p : claims) read.push_back(p.get<std::int64_t>());
  const std::int64_t winner = m.dict("race").get<std::int64_t>("winner");
  assert_true(winner >= 1 && winner <= 3);
  for (std::int64_t r : read) assert_true(r == winner);
  int got = 0, missed = 0;
  for (auto &p : takes) {
    const std::int64_t v = p.get<std::int64_t>();
    got += v == 77;
    missed += v == -1;
  }
  assert_int_equal(got, 1);
  assert_int_equal(missed, 2);
}

// Every new wrapper on a proxy whose server is gone: closed_error; on a
// moved-from proxy: MP_EINVAL.
static void server_gone_and_moved_from(void **state) {
  (void)state;
  mp::manager m;
  mp::dict d = m.dict("d");
  mp::dict other = m.dict("o");
  mp::list l = m.list("l");
  mp::list other_list = m.list("ol");
  d.set("k", std::int64_t{1});
  l.append(std::int64_t{1});
  mp::dict moved = m.dict("d");
  mp::dict empty_d = std::move(moved);
  mp::list moved_list = m.list("l");
  mp::list empty_l = std::move(moved_list);
  EXPECT_THROW(mp::error, moved.contains("k"), MP_EINVAL);
  EXPECT_THROW(mp::error, moved.keys(), MP_EINVAL);
  EXPECT_THROW(mp::error, moved.items<std::int64_t>(), MP_EINVAL);
  EXPECT_THROW(mp::error, moved.pop<std::int64_t>("k"), MP_EINVAL);
  EXPECT_THROW(mp::error, moved.pop<std::int64_t>("k", 0), MP_EINVAL); // not the default: an error
  EXPECT_THROW(mp::error, moved.setdefault("k", 0), MP_EINVAL);
  EXPECT_THROW(mp::error, moved.clear(), MP_EINVAL);
  EXPECT_THROW(mp::error, moved.update(d), MP_EINVAL);
  EXPECT_THROW(mp::error, moved_list.set(0, 1), MP_EINVAL);
  EXPECT_THROW(mp::error, moved_list.insert(0, 1), MP_EINVAL);
  EXPECT_THROW(mp::error, moved_list.pop<std::int64_t>(), MP_EINVAL);
  EXPECT_THROW(mp::error, moved_list.erase(0), MP_EINVAL);
  EXPECT_THROW(mp::error, moved_list.extend(l), MP_EINVAL);

  m.shutdown();
  EXPECT_THROW(mp::closed_error, d.contains("k"), MP_ECLOSED);
  EXPECT_THROW(mp::closed_error, d.keys(), MP_ECLOSED);
  EXPECT_THROW(mp::closed_error, d.items<std::int64_t>(), MP_ECLOSED);
  EXPECT_THROW(mp::closed_error, d.pop<std::int64_t>("k"), MP_ECLOSED);
  EXPECT_THROW(mp::closed_error, d.pop<std::int64_t>("k", 0), MP_ECLOSED);
  EXPECT_THROW(mp::closed_error, d.setdefault("k", 0), MP_ECLOSED);
  EXPECT_THROW(mp::closed_error, d.clear(), MP_ECLOSED);
  EXPECT_THROW(mp::closed_error, d.update(other), MP_ECLOSED);
  EXPECT_THROW(mp::closed_error, l.set(0, 1), MP_ECLOSED);
  EXPECT_THROW(mp::closed_error, l.insert(0, 1), MP_ECLOSED);
  EXPECT_THROW(mp::closed_error, l.pop<std::int64_t>(), MP_ECLOSED);
  EXPECT_THROW(mp::closed_error, l.erase(0), MP_ECLOSED);
  EXPECT_THROW(mp::closed_error, l.extend(other_list), MP_ECLOSED);
}

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
#define CXX_TEST(f) {#f, guarded<f>, tu_setup, tu_teardown, nullptr} // TU_TEST(f), guarded

int main(int argc, char **argv) {
  if (mp::detail::registration().code != MP_OK) {
    std::fprintf(stderr, "MPROC_TASK: %s\n", mp::detail::registration().text.c_str());
    return 2;
  }
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      CXX_TEST(dict_contains_and_pop),
      CXX_TEST(dict_setdefault),
      CXX_TEST(dict_keys_items_clear),
      CXX_TEST(dict_update),
      CXX_TEST(list_set_insert),
      CXX_TEST(list_pop_erase),
      CXX_TEST(list_extend),
      CXX_TEST(across_processes),
      CXX_TEST(server_gone_and_moved_from),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
