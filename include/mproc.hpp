/**
 * @file mproc.hpp
 * @brief mproc for C++17: RAII types, typed tasks and exceptions over the
 * C API of mproc.h (header-only; no second implementation).
 *
 * Every wrapper owns one C object and frees it with the C library's
 * mp_X_free; it is movable, not copyable, and a moved-from wrapper holds
 * nothing (its calls fail with mp::error, code MP_EINVAL, as the C calls
 * do given NULL). Every C call that fails becomes an exception: mp::error,
 * or the class of its code (mp::timeout_error, mp::task_error, ...), whose
 * what() is mp_last_error()'s sentence, or the task's own message.
 *
 * Tasks are plain functions of typed values, registered by name:
 *
 *     static std::int64_t square(std::int64_t x) { return x * x; }
 *     MPROC_TASK(square);               // before mp::main, as MP_REGISTER
 *     int main(int argc, char **argv) {
 *       mp::main(argc, argv);           // the main guard
 *       mp::pool pool;
 *       std::vector<std::int64_t> sq = pool.map(square_task, std::vector<std::int64_t>{1, 2, 3});
 *     }
 *
 * docs/cpp.md has the type rules, the exceptions and what each wrapper
 * maps to.
 */
#ifndef MPROC_HPP
#define MPROC_HPP

#if !defined(__cplusplus) || (__cplusplus < 201703L && !(defined(_MSVC_LANG) && _MSVC_LANG >= 201703L))
#error "mproc.hpp needs C++17 (MSVC: /std:c++17 or later)"
#endif

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mproc.h"

namespace mp {

/** A timeout that never runs out (MP_FOREVER). */
inline constexpr double forever = MP_FOREVER;

/** How a child starts (enum mp_start_method). */
enum class start_method : int { automatic = MP_START_DEFAULT, fork = MP_START_FORK, spawn = MP_START_SPAWN };

// ------------------------------------------------------------------ errors
/** A failed mproc call: code() is its MP_E* code, what() the sentence
 * mp_last_error() had (or the task's message). */
class error : public std::runtime_error {
public:
  error(int code, const std::string &what) : std::runtime_error(what), code_(code) {}
  /** The MP_E* code. */
  int code() const noexcept { return code_; }
  /** The code's name, e.g. "MP_ETIMEDOUT". */
  const char *name() const noexcept { return mp_err_name(code_); }

private:
  int code_;
};
/** MP_ETASK: the task failed (threw, or a C task's mp_call_fail); what()
 * is its message (an exception's what()). */
class task_error : public error {
public:
  task_error(const std::string &what, int task_code) : error(MP_ETASK, what), task_code_(task_code) {}
  /** The task's own non-zero return (MP_ETASK for one that threw). */
  int task_code() const noexcept { return task_code_; }

private:
  int task_code_;
};
/** MP_ECRASHED: the process running the task died. */
class crashed_error : public error {
public:
  explicit crashed_error(const std::string &what) : error(MP_ECRASHED, what) {}
};
/** MP_ETIMEDOUT. */
class timeout_error : public error {
public:
  explicit timeout_error(const std::string &what) : error(MP_ETIMEDOUT, what) {}
};
/** MP_ECANCELLED: cancelled, or its pool was terminated or freed. */
class cancelled_error : public error {
public:
  explicit cancelled_error(const std::string &what) : error(MP_ECANCELLED, what) {}
};
/** MP_ECLOSED: queue or pipe closed and drained, manager gone. */
class closed_error : public error {
public:
  explicit closed_error(const std::string &what) : error(MP_ECLOSED, what) {}
};
/** MP_ENOTASK: no task registered under that name. */
class no_task_error : public error {
public:
  explicit no_task_error(const std::string &what) : error(MP_ENOTASK, what) {}
};
/** MP_ENOTFOUND: no such key (dict) or index (list). */
class not_found_error : public error {
public:
  explicit not_found_error(const std::string &what) : error(MP_ENOTFOUND, what) {}
};
/** Bytes that do not decode as the type asked for (a result of the wrong
 * size, say): code MP_EINVAL, as mp_pool_map's for a wrong-size result. */
class decode_error : public error {
public:
  explicit decode_error(const std::string &what) : error(MP_EINVAL, what) {}
};

namespace detail {
[[noreturn]] inline void raise(int code, const std::string &what) {
  const std::string text = what.empty() ? std::string(mp_strerror(code)) : what;
  switch (code) {
  case MP_ETASK: throw task_error(text, MP_ETASK);
  case MP_ECRASHED: throw crashed_error(text);
  case MP_ETIMEDOUT: throw timeout_error(text);
  case MP_ECANCELLED: throw cancelled_error(text);
  case MP_ECLOSED: throw closed_error(text);
  case MP_ENOTASK: throw no_task_error(text);
  case MP_ENOTFOUND: throw not_found_error(text);
  default: throw error(code, text);
  }
}
/** rc, or the exception of its code with mp_last_error()'s sentence. */
inline int check(int rc) {
  if (rc < 0) raise(rc, mp_last_error());
  return rc;
}
} // namespace detail

// -------------------------------------------------------------- the codec
/**
 * How a value of T travels as bytes. Specialise it for a type of your own
 * (in namespace mp), with
 *
 *     static void encode(const T &value, std::string &out); // append bytes
 *     static T decode(const void *data, std::size_t len);   // or throw
 *
 * Given: trivially copyable types (not pointers: an address means nothing
 * in another process), std::string, and std::vector of a trivially
 * copyable type.
 */
template <class T, class Enable = void> struct codec {
  static_assert(sizeof(T) == 0, "mp::codec<T>: T is not trivially copyable, std::string or std::vector of "
                                "a trivially copyable type; specialise mp::codec<T> (encode, decode) for it");
};

namespace detail {
template <class T>
inline constexpr bool plain_v = std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> &&
                                !std::is_member_pointer_v<T> && !std::is_array_v<T> && !std::is_void_v<T>;
template <class T> struct is_vector : std::false_type {};
template <class T, class A> struct is_vector<std::vector<T, A>> : std::true_type {};
[[noreturn]] inline void wrong_size(const char *type, std::size_t len, std::size_t want, bool multiple) {
  throw decode_error(std::string("mp::codec: ") + std::to_string(len) + " bytes do not make " +
                     (multiple ? "a whole number of " : "") + type + " (" + std::to_string(want) + " bytes" +
                     (multiple ? " each" : "") + ")");
}
} // namespace detail

/** Trivially copyable types: their bytes, exactly sizeof(T) of them. */
template <class T> struct codec<T, std::enable_if_t<detail::plain_v<T>>> {
  static void encode(const T &value, std::string &out) {
    out.append(reinterpret_cast<const char *>(&value), sizeof value);
  }
  static T decode(const void *data, std::size_t len) {
    if (len != sizeof(T)) detail::wrong_size("this trivially copyable type", len, sizeof(T), false);
    T value;
    std::memcpy(static_cast<void *>(&value), data, sizeof value);
    return value;
  }
};
/** std::string: its bytes (any, NULs included). */
template <> struct codec<std::string> {
  static void encode(const std::string &value, std::string &out) { out.append(value); }
  static std::string decode(const void *data, std::size_t len) {
    return len ? std::string(static_cast<const char *>(data), len) : std::string();
  }
};
/** std::vector of a trivially copyable type: its elements' bytes. */
template <class T, class A> struct codec<std::vector<T, A>, std::enable_if_t<detail::plain_v<T>>> {
  static void encode(const std::vector<T, A> &value, std::string &out) {
    if (!value.empty()) out.append(reinterpret_cast<const char *>(value.data()), value.size() * sizeof(T));
  }
  static std::vector<T, A> decode(const void *data, std::size_t len) {
    if (len % sizeof(T) != 0) detail::wrong_size("elements", len, sizeof(T), true);
    std::vector<T, A> value(len / sizeof(T));
    if (len) std::memcpy(static_cast<void *>(value.data()), data, len);
    return value;
  }
};

/** value's bytes, as mp::codec<T> makes them. */
template <class T> std::string encode(const T &value) {
  std::string out;
  codec<T>::encode(value, out);
  return out;
}
/** A T from bytes, as mp::codec<T> reads them (mp::decode_error if they
 * do not make one). */
template <class T> T decode(const void *data, std::size_t len) {
  if constexpr (std::is_void_v<T>) {
    (void)data;
    (void)len;
  } else {
    return codec<T>::decode(data, len);
  }
}

// ---------------------------------------------------------------- results
/** An mp_result, cleared when it goes. */
class result {
public:
  result() noexcept : r_{} {}
  ~result() { mp_result_clear(&r_); }
  result(result &&o) noexcept : r_(o.r_) { o.r_ = mp_result{}; }
  result &operator=(result &&o) noexcept {
    if (this != &o) {
      mp_result_clear(&r_);
      r_ = o.r_;
      o.r_ = mp_result{};
    }
    return *this;
  }
  result(const result &) = delete;
  result &operator=(const result &) = delete;
  /** MP_OK, MP_ETASK, MP_ECRASHED, MP_ETIMEDOUT, MP_ECANCELLED, ... */
  int status() const noexcept { return r_.status; }
  /** The task's own non-zero return, for MP_ETASK. */
  int task_code() const noexcept { return r_.task_code; }
  /** The failure's text ("" if none). */
  std::string message() const { return r_.message ? r_.message : ""; }
  const void *data() const noexcept { return r_.data; }
  std::size_t size() const noexcept { return r_.len; }
  /** The C struct, to fill (mp_process_result(p, r.get())) or read. */
  mp_result *get() noexcept { return &r_; }
  const mp_result *get() const noexcept { return &r_; }
  /** The value as T, or the exception the status stands for. */
  template <class T> T value() const { return value_of<T>(r_); }

  /** The value of a C result as T, or the exception of its status. */
  template <class T> static T value_of(const mp_result &r) {
    if (r.status != MP_OK) {
      const std::string text = r.message ? r.message : "";
      if (r.status == MP_ETASK) throw task_error(text.empty() ? mp_strerror(MP_ETASK) : text, r.task_code);
      detail::raise(r.status, text);
    }
    return decode<T>(r.data, r.len);
  }

private:
  mp_result r_;
};

// --------------------------------------------------------------- handles
namespace detail {
/** The one owner of a C object: Free()(p) frees it. (A functor, not the
 * function itself as a template argument: a dllimport function's address
 * is no constant to MSVC.) */
template <class T, class Free> class handle {
public:
  handle() noexcept = default;
  explicit handle(T *raw) noexcept : p_(raw) {}
  ~handle() { reset(); }
  handle(handle &&o) noexcept : p_(o.release()) {}
  handle &operator=(handle &&o) noexcept {
    if (this != &o) {
      reset();
      p_ = o.release();
    }
    return *this;
  }
  handle(const handle &) = delete;
  handle &operator=(const handle &) = delete;
  T *get() const noexcept { return p_; }
  T *release() noexcept {
    T *p = p_;
    p_ = nullptr;
    return p;
  }
  void reset(T *raw = nullptr) noexcept {
    if (p_) Free()(p_);
    p_ = raw;
  }

private:
  T *p_ = nullptr;
};
#define MPROC_HPP_FREE(T)                                                                                      \
  struct free_##T {                                                                                             \
    void operator()(mp_##T *p) const noexcept { mp_##T##_free(p); }                                           \
  };
MPROC_HPP_FREE(queue)
MPROC_HPP_FREE(conn)
MPROC_HPP_FREE(lock)
MPROC_HPP_FREE(semaphore)
MPROC_HPP_FREE(event)
MPROC_HPP_FREE(barrier)
MPROC_HPP_FREE(condition)
MPROC_HPP_FREE(shm)
MPROC_HPP_FREE(manager)
MPROC_HPP_FREE(dict)
MPROC_HPP_FREE(list)
MPROC_HPP_FREE(process)
MPROC_HPP_FREE(async)
MPROC_HPP_FREE(iter)
MPROC_HPP_FREE(pool)
#undef MPROC_HPP_FREE
/** A buffer the library handed out, released with mp_free. */
struct free_buffer {
  void operator()(void *p) const noexcept { mp_free(p); }
};
using buffer = std::unique_ptr<void, free_buffer>;
/** T itself, where it must not be deduced. */
template <class T> struct same {
  using type = T;
};
template <class T> using same_t = typename same<T>::type;
} // namespace detail

/** Takes ownership of a C object: mp::queue(mp::adopt, q). One that
 * belongs to a task's call (mp_call_queue, ...) is fine too: freeing it
 * does nothing. */
struct adopt_t {
  explicit adopt_t() = default;
};
inline constexpr adopt_t adopt{};

/** The C objects are shared with children by listing them in options:
 * every wrapper that can be has obj(). */
using object = mp_object *;

class context;

// ----------------------------------------------------------------- queue
/** A Queue across processes (mp_queue). Values go in with put and come out
 * with get, each as mp::codec of its type makes it. */
class queue {
public:
  /** Options of the queue (mp_queue_options). */
  struct options {
    std::size_t maxsize = 0; /**< messages; 0 unbounded */
    bool joinable = false;   /**< task_done / join */
  };
  /** A new unbounded queue. */
  queue() : queue(options{}) {}
  explicit queue(const options &o) {
    mp_queue_options c{};
    c.maxsize = o.maxsize;
    c.joinable = o.joinable ? 1 : 0;
    mp_queue *q = nullptr;
    detail::check(mp_queue_create(&q, &c));
    h_.reset(q);
  }
  queue(adopt_t, mp_queue *q) noexcept : h_(q) {}

  /** Puts value (timeout: for room in a bounded queue; mp::timeout_error). */
  template <class T> void put(const T &value, double timeout = forever) {
    const std::string bytes = encode(value);
    detail::check(mp_queue_put(h_.get(), bytes.data(), bytes.size(), timeout));
  }
  /** The next value; mp::timeout_error if none came in time, mp::error
   * MP_EEMPTY for timeout 0 on an empty queue, mp::closed_error once closed
   * and drained. */
  template <class T> T get(double timeout = forever) {
    void *data = nullptr;
    std::size_t len = 0;
    detail::check(mp_queue_get(h_.get(), &data, &len, timeout));
    detail::buffer owned(data);
    return decode<T>(data, len);
  }
  /** The next value, or nothing if none came in time (or the queue is
   * closed and drained). */
  template <class T> std::optional<T> try_get(double timeout = 0) {
    void *data = nullptr;
    std::size_t len = 0;
    const int rc = mp_queue_get(h_.get(), &data, &len, timeout);
    if (rc == MP_ETIMEDOUT || rc == MP_EEMPTY || rc == MP_ECLOSED) return std::nullopt;
    detail::check(rc);
    detail::buffer owned(data);
    return decode<T>(data, len);
  }
  /** The number of messages queued (approximate while others use it). */
  std::size_t qsize() const {
    std::size_t n = 0;
    detail::check(mp_queue_qsize(h_.get(), &n));
    return n;
  }
  /** No more puts; gets drain, then mp::closed_error. */
  void close() { detail::check(mp_queue_close(h_.get())); }
  /** Joinable queues: one item taken is done. */
  void task_done() { detail::check(mp_queue_task_done(h_.get())); }
  /** Joinable queues: true once every item put is done, false on timeout. */
  bool join(double timeout = forever) {
    const int rc = mp_queue_join(h_.get(), timeout);
    if (rc == MP_ETIMEDOUT) return false;
    detail::check(rc);
    return true;
  }
  object obj() const noexcept { return mp_queue_obj(h_.get()); }
  mp_queue *get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return h_.get() != nullptr; }

private:
  detail::handle<mp_queue, detail::free_queue> h_;
};

// ------------------------------------------------------------------ pipe
/** One end of a Pipe (mp_conn). */
class connection {
public:
  connection() noexcept = default;
  connection(adopt_t, mp_conn *c) noexcept : h_(c) {}
  /** Sends value (mp::closed_error if the peer is gone). */
  template <class T> void send(const T &value) {
    const std::string bytes = encode(value);
    detail::check(mp_conn_send(h_.get(), bytes.data(), bytes.size()));
  }
  /** Receives one value (mp::timeout_error, mp::closed_error). */
  template <class T> T recv(double timeout = forever) {
    void *data = nullptr;
    std::size_t len = 0;
    detail::check(mp_conn_recv(h_.get(), &data, &len, timeout));
    detail::buffer owned(data);
    return decode<T>(data, len);
  }
  /** Whether a receive would return at once (a predicate, never throws). */
  bool poll(double timeout = 0) const noexcept { return mp_conn_poll(h_.get(), timeout) == 1; }
  /** Closes this end now (the destructor does it too). */
  void close() noexcept { h_.reset(); }
  object obj() const noexcept { return mp_conn_obj(h_.get()); }
  mp_conn *get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return h_.get() != nullptr; }

private:
  detail::handle<mp_conn, detail::free_conn> h_;
};
/** Python's Pipe(duplex): two connected ends. With !duplex, first
 * receives and second sends. */
inline std::pair<connection, connection> pipe(bool duplex = true) {
  mp_conn *a = nullptr, *b = nullptr;
  detail::check(mp_pipe(&a, &b, duplex ? 1 : 0));
  return {connection(adopt, a), connection(adopt, b)};
}

// ------------------------------------------------------------------- sync
/** A Lock or RLock (mp_lock). Hold it for a scope with mp::lock_guard
 * (a member lock() cannot be: the class is called lock). */
class lock {
public:
  /** A new Lock (recursive: an RLock). */
  explicit lock(bool recursive = false) {
    mp_lock *l = nullptr;
    detail::check(mp_lock_create(&l, recursive ? 1 : 0));
    h_.reset(l);
  }
  lock(adopt_t, mp_lock *l) noexcept : h_(l) {}
  /** Takes it: true once held (also when its previous owner died holding
   * it: previous_owner_died() then says so), false on timeout. */
  bool acquire(double timeout = forever) {
    const int rc = mp_lock_acquire(h_.get(), timeout);
    if (rc == MP_ETIMEDOUT) return false;
    owner_died_ = rc == MP_EOWNERDEAD;
    if (!owner_died_) detail::check(rc);
    return true;
  }
  /** Gives back one level of this thread's hold. */
  void release() { detail::check(mp_lock_release(h_.get())); }
  /** Whether the last acquire took it from a holder that died. */
  bool previous_owner_died() const noexcept { return owner_died_; }
  object obj() const noexcept { return mp_lock_obj(h_.get()); }
  mp_lock *get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return h_.get() != nullptr; }

private:
  detail::handle<mp_lock, detail::free_lock> h_;
  bool owner_died_ = false;
};
/** An RLock: mp::lock(true). */
inline lock rlock() { return lock(true); }

/** Holds L (an mp::lock, mp::semaphore or mp::condition) for a scope:
 * acquire when made, release when it goes. */
template <class L> class lock_guard {
public:
  explicit lock_guard(L &l) : l_(l) { l_.acquire(); }
  ~lock_guard() {
    try {
      l_.release();
    } catch (...) { // a destructor must not throw; acquire made it ours
    }
  }
  lock_guard(const lock_guard &) = delete;
  lock_guard &operator=(const lock_guard &) = delete;

private:
  L &l_;
};

/** A Semaphore or BoundedSemaphore (mp_semaphore). */
class semaphore {
public:
  /** A count starting at value; max 0: unbounded, else bounded by max. */
  explicit semaphore(unsigned value = 1, unsigned max = 0) {
    mp_semaphore *s = nullptr;
    detail::check(mp_semaphore_create(&s, value, max));
    h_.reset(s);
  }
  semaphore(adopt_t, mp_semaphore *s) noexcept : h_(s) {}
  /** Takes one: true, or false on timeout. */
  bool acquire(double timeout = forever) {
    const int rc = mp_semaphore_acquire(h_.get(), timeout);
    if (rc == MP_ETIMEDOUT) return false;
    detail::check(rc);
    return true;
  }
  /** Gives one back (mp::error MP_EFULL past a bound). */
  void release() { detail::check(mp_semaphore_release(h_.get())); }
  /** The count now. */
  unsigned value() const {
    unsigned v = 0;
    detail::check(mp_semaphore_value(h_.get(), &v));
    return v;
  }
  void lock() { acquire(); }
  void unlock() { release(); }
  bool try_lock() { return acquire(0); }
  object obj() const noexcept { return mp_semaphore_obj(h_.get()); }
  mp_semaphore *get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return h_.get() != nullptr; }

private:
  detail::handle<mp_semaphore, detail::free_semaphore> h_;
};

/** An Event (mp_event). */
class event {
public:
  event() {
    mp_event *e = nullptr;
    detail::check(mp_event_create(&e));
    h_.reset(e);
  }
  event(adopt_t, mp_event *e) noexcept : h_(e) {}
  void set() { detail::check(mp_event_set(h_.get())); }
  void clear() { detail::check(mp_event_clear(h_.get())); }
  bool is_set() const noexcept { return mp_event_is_set(h_.get()) == 1; }
  /** true once set, false on timeout. */
  bool wait(double timeout = forever) {
    const int rc = mp_event_wait(h_.get(), timeout);
    if (rc == MP_ETIMEDOUT) return false;
    detail::check(rc);
    return true;
  }
  object obj() const noexcept { return mp_event_obj(h_.get()); }
  mp_event *get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return h_.get() != nullptr; }

private:
  detail::handle<mp_event, detail::free_event> h_;
};

/** A Barrier (mp_barrier). */
class barrier {
public:
  explicit barrier(unsigned parties) {
    mp_barrier *b = nullptr;
    detail::check(mp_barrier_create(&b, parties));
    h_.reset(b);
  }
  barrier(adopt_t, mp_barrier *b) noexcept : h_(b) {}
  /** Waits for the round: this party's place in it, 0..parties-1.
   * mp::timeout_error (which breaks the barrier), mp::error MP_ESTATE
   * when it is broken (Python's BrokenBarrierError). */
  unsigned wait(double timeout = forever) {
    unsigned index = 0;
    detail::check(mp_barrier_wait_index(h_.get(), timeout, &index));
    return index;
  }
  void reset() { detail::check(mp_barrier_reset(h_.get())); }
  void abort() { detail::check(mp_barrier_abort(h_.get())); }
  object obj() const noexcept { return mp_barrier_obj(h_.get()); }
  mp_barrier *get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return h_.get() != nullptr; }

private:
  detail::handle<mp_barrier, detail::free_barrier> h_;
};

/** A Condition (mp_condition) around a lock of its own (an RLock) or the
 * one given. Lockable, as its lock. */
class condition {
public:
  condition() : condition(nullptr) {}
  /** Around l (the condition keeps the C lock alive). */
  explicit condition(mp::lock &l) : condition(l.get()) {}
  condition(adopt_t, mp_condition *c) noexcept : h_(c) {}
  /** Waits to be notified: true, or false on timeout. mp::error
   * MP_EOWNERDEAD if the lock came back from a holder that died. */
  bool wait(double timeout = forever) {
    const int rc = mp_condition_wait(h_.get(), timeout);
    if (rc == MP_ETIMEDOUT) return false;
    detail::check(rc);
    return true;
  }
  /** Waits until pred() (called with the lock held) is true: true, or
   * false on timeout. An exception of pred's comes out here. */
  template <class Pred> bool wait_for(Pred pred, double timeout = forever) {
    struct state {
      Pred *pred;
      std::exception_ptr failed;
    } s{&pred, nullptr};
    auto thunk = [](void *ud) -> int {
      auto *st = static_cast<state *>(ud);
      if (st->failed) return 1;
      try {
        return (*st->pred)() ? 1 : 0;
      } catch (...) {
        st->failed = std::current_exception();
        return 1;
      }
    };
    const int rc = mp_condition_wait_for(h_.get(), thunk, &s, timeout);
    if (s.failed) std::rethrow_exception(s.failed);
    if (rc == MP_ETIMEDOUT) return false;
    detail::check(rc);
    return true;
  }
  void notify(unsigned n = 1) { detail::check(mp_condition_notify(h_.get(), n)); }
  void notify_all() { detail::check(mp_condition_notify_all(h_.get())); }
  bool acquire(double timeout = forever) {
    const int rc = mp_condition_acquire(h_.get(), timeout);
    if (rc == MP_ETIMEDOUT) return false;
    if (rc != MP_EOWNERDEAD) detail::check(rc);
    return true;
  }
  void release() { detail::check(mp_condition_release(h_.get())); }
  void lock() { acquire(); }
  void unlock() { release(); }
  bool try_lock() { return acquire(0); }
  object obj() const noexcept { return mp_condition_obj(h_.get()); }
  mp_condition *get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return h_.get() != nullptr; }

private:
  explicit condition(mp_lock *l) {
    mp_condition *c = nullptr;
    detail::check(mp_condition_create(&c, l));
    h_.reset(c);
  }
  detail::handle<mp_condition, detail::free_condition> h_;
};

// ---------------------------------------------------------- shared memory
/** A block of shared memory, zero-filled (mp_shm). Store offsets in it,
 * never pointers. */
class shared_memory {
public:
  explicit shared_memory(std::size_t size) {
    mp_shm *s = nullptr;
    detail::check(mp_shm_create(&s, size));
    h_.reset(s);
  }
  shared_memory(adopt_t, mp_shm *s) noexcept : h_(s) {}
  void *data() const noexcept { return mp_shm_ptr(h_.get()); }
  std::size_t size() const noexcept { return mp_shm_size(h_.get()); }
  /** The block as a T (T must fit: mp::error MP_EINVAL if not). */
  template <class T> T *as() const {
    static_assert(std::is_trivially_copyable_v<T>, "shared memory holds trivially copyable types");
    if (size() < sizeof(T))
      throw error(MP_EINVAL, "mp::shared_memory::as: the block has " + std::to_string(size()) +
                                 " bytes, the type needs " + std::to_string(sizeof(T)));
    return static_cast<T *>(data());
  }
  object obj() const noexcept { return mp_shm_obj(h_.get()); }
  mp_shm *get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return h_.get() != nullptr; }

private:
  detail::handle<mp_shm, detail::free_shm> h_;
};

// ---------------------------------------------------------------- manager
/** A proxy for a manager's dict (mp_dict): string keys, typed values. */
class dict {
public:
  dict() noexcept = default;
  dict(adopt_t, mp_dict *d) noexcept : h_(d) {}
  /** d[key] = value. */
  template <class T> void set(const std::string &key, const T &value) {
    const std::string bytes = encode(value);
    detail::check(mp_dict_set(h_.get(), key.c_str(), bytes.data(), bytes.size()));
  }
  /** d[key] (mp::not_found_error if there is none). */
  template <class T> T get(const std::string &key) {
    void *data = nullptr;
    std::size_t len = 0;
    detail::check(mp_dict_get(h_.get(), key.c_str(), &data, &len));
    detail::buffer owned(data);
    return decode<T>(data, len);
  }
  /** d[key], or nothing if there is no such key. */
  template <class T> std::optional<T> try_get(const std::string &key) {
    void *data = nullptr;
    std::size_t len = 0;
    const int rc = mp_dict_get(h_.get(), key.c_str(), &data, &len);
    if (rc == MP_ENOTFOUND) return std::nullopt;
    detail::check(rc);
    detail::buffer owned(data);
    return decode<T>(data, len);
  }
  /** Removes d[key]: true, or false if there was none. */
  bool erase(const std::string &key) {
    const int rc = mp_dict_del(h_.get(), key.c_str());
    if (rc == MP_ENOTFOUND) return false;
    detail::check(rc);
    return true;
  }
  /** The number of keys. */
  std::size_t size() const {
    std::size_t n = 0;
    detail::check(mp_dict_len(h_.get(), &n));
    return n;
  }
  /** d[key] += delta in one step in the server (an int64_t value; a
   * missing key counts from 0): the new value. */
  std::int64_t add(const std::string &key, std::int64_t delta) {
    std::int64_t now = 0;
    detail::check(mp_dict_add_i64(h_.get(), key.c_str(), delta, &now));
    return now;
  }
  mp_dict *get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return h_.get() != nullptr; }

private:
  detail::handle<mp_dict, detail::free_dict> h_;
};

/** A proxy for a manager's list (mp_list): typed items. */
class list {
public:
  list() noexcept = default;
  list(adopt_t, mp_list *l) noexcept : h_(l) {}
  template <class T> void append(const T &value) {
    const std::string bytes = encode(value);
    detail::check(mp_list_append(h_.get(), bytes.data(), bytes.size()));
  }
  /** Item i (mp::not_found_error past the end). */
  template <class T> T get(std::size_t i) {
    void *data = nullptr;
    std::size_t len = 0;
    detail::check(mp_list_get(h_.get(), i, &data, &len));
    detail::buffer owned(data);
    return decode<T>(data, len);
  }
  std::size_t size() const {
    std::size_t n = 0;
    detail::check(mp_list_len(h_.get(), &n));
    return n;
  }
  mp_list *get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return h_.get() != nullptr; }

private:
  detail::handle<mp_list, detail::free_list> h_;
};

/** A Manager: its server process (mp_manager). */
class manager {
public:
  /** Starts the server. */
  manager() {
    mp_manager *m = nullptr;
    detail::check(mp_manager_start(&m));
    h_.reset(m);
  }
  manager(adopt_t, mp_manager *m) noexcept : h_(m) {}
  /** The dict called name (made empty if new). */
  mp::dict dict(const std::string &name) {
    mp_dict *d = nullptr;
    detail::check(mp_manager_dict(h_.get(), name.c_str(), &d));
    return mp::dict(adopt, d);
  }
  /** The list called name (made empty if new). */
  mp::list list(const std::string &name) {
    mp_list *l = nullptr;
    detail::check(mp_manager_list(h_.get(), name.c_str(), &l));
    return mp::list(adopt, l);
  }
  /** Ends the server (the destructor does it too). */
  void shutdown() { detail::check(mp_manager_shutdown(h_.get())); }
  object obj() const noexcept { return mp_manager_obj(h_.get()); }
  mp_manager *get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return h_.get() != nullptr; }

private:
  detail::handle<mp_manager, detail::free_manager> h_;
};

// ---------------------------------------------------------------- context
/** What a task may take as its last parameter: its call, and the objects
 * its options listed (each a wrapper whose freeing does nothing: the
 * objects belong to the call). */
class context {
public:
  explicit context(mp_call *call) noexcept : call_(call) {}
  /** The item's index in a map or imap (0 otherwise). */
  std::size_t index() const noexcept { return mp_call_index(call_); }
  /** Which worker of its pool runs it (0 in a process). */
  int worker_id() const noexcept { return mp_call_worker_id(call_); }
  mp::queue queue(std::size_t i) const { return mp::queue(adopt, got(mp_call_queue(call_, i))); }
  mp::connection connection(std::size_t i) const { return mp::connection(adopt, got(mp_call_conn(call_, i))); }
  mp::lock lock(std::size_t i) const { return mp::lock(adopt, got(mp_call_lock(call_, i))); }
  mp::semaphore semaphore(std::size_t i) const { return mp::semaphore(adopt, got(mp_call_semaphore(call_, i))); }
  mp::event event(std::size_t i) const { return mp::event(adopt, got(mp_call_event(call_, i))); }
  mp::barrier barrier(std::size_t i) const { return mp::barrier(adopt, got(mp_call_barrier(call_, i))); }
  mp::condition condition(std::size_t i) const { return mp::condition(adopt, got(mp_call_condition(call_, i))); }
  mp::shared_memory shared_memory(std::size_t i) const { return mp::shared_memory(adopt, got(mp_call_shm(call_, i))); }
  mp::manager manager(std::size_t i) const { return mp::manager(adopt, got(mp_call_manager(call_, i))); }
  mp_call *get() const noexcept { return call_; }

private:
  template <class T> static T *got(T *p) {
    if (!p) throw error(MP_EINVAL, mp_last_error());
    return p;
  }
  mp_call *call_;
};

// ------------------------------------------------------------------ tasks
/** A registered task's name, with the types it takes and gives: what
 * MPROC_TASK(fn) makes as fn_task. Arg is void for a task of no argument. */
template <class R, class Arg> struct task {
  const char *name;
};

namespace detail {
template <class F> struct fn_traits;
template <class R> struct fn_traits<R (*)()> {
  using result = std::decay_t<R>;
  using arg = void;
  static constexpr bool with_context = false;
};
template <class R, class A> struct fn_traits<R (*)(A)> {
  static constexpr bool with_context = std::is_same_v<std::decay_t<A>, context>;
  using result = std::decay_t<R>;
  using arg = std::conditional_t<with_context, void, std::decay_t<A>>;
};
template <class R, class A> struct fn_traits<R (*)(A, context &)> {
  using result = std::decay_t<R>;
  using arg = std::decay_t<A>;
  static constexpr bool with_context = true;
};
#if defined(__cpp_noexcept_function_type)
template <class R> struct fn_traits<R (*)() noexcept> : fn_traits<R (*)()> {};
template <class R, class A> struct fn_traits<R (*)(A) noexcept> : fn_traits<R (*)(A)> {};
template <class R, class A> struct fn_traits<R (*)(A, context &) noexcept> : fn_traits<R (*)(A, context &)> {};
#endif

template <auto Fn> decltype(auto) call_fn(mp_call *call, context &ctx) {
  using tr = fn_traits<decltype(Fn)>;
  if constexpr (std::is_void_v<typename tr::arg>) {
    std::size_t len = 0;
    mp_call_arg(call, &len);
    if (len != 0) throw decode_error("the task takes no argument, and was given " + std::to_string(len) + " bytes");
    if constexpr (tr::with_context)
      return Fn(ctx);
    else
      return Fn();
  } else {
    std::size_t len = 0;
    const void *data = mp_call_arg(call, &len);
    typename tr::arg arg = codec<typename tr::arg>::decode(data, len);
    if constexpr (tr::with_context)
      return Fn(std::move(arg), ctx);
    else
      return Fn(std::move(arg));
  }
}

/** The C task that runs Fn: decodes the argument, encodes the result, and
 * turns every exception into the task's failure (MP_ETASK, what()). */
template <auto Fn> int trampoline(mp_call *call) noexcept {
  try {
    using tr = fn_traits<decltype(Fn)>;
    context ctx(call);
    if constexpr (std::is_void_v<typename tr::result>) {
      call_fn<Fn>(call, ctx);
      return 0;
    } else {
      const std::string bytes = encode<typename tr::result>(call_fn<Fn>(call, ctx));
      if (mp_call_return(call, bytes.data(), bytes.size()) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
      return 0;
    }
  } catch (const std::exception &e) {
    return mp_call_fail(call, "%s", e.what());
  } catch (...) {
    return mp_call_fail(call, "%s", "the task threw an exception that is not a std::exception");
  }
}

/** Registration failures before main (where nothing can throw): mp::main
 * reports the first. */
struct registration_state {
  int code = MP_OK;
  std::string text;
};
inline registration_state &registration() {
  static registration_state s;
  return s;
}
} // namespace detail

/** Registers Fn under name (mp_register, before mp::main) and returns its
 * typed handle. Throws mp::error; at namespace scope (MPROC_TASK) the
 * failure is kept for mp::main to throw instead. */
template <auto Fn> auto register_task(const char *name) {
  using tr = detail::fn_traits<decltype(Fn)>;
  detail::check(mp_register(name, &detail::trampoline<Fn>));
  return task<typename tr::result, typename tr::arg>{name};
}

namespace detail {
template <auto Fn> auto register_static(const char *name) noexcept {
  using tr = fn_traits<decltype(Fn)>;
  const int rc = mp_register(name, &trampoline<Fn>);
  if (rc != MP_OK && registration().code == MP_OK) {
    registration().code = rc;
    try {
      registration().text = mp_last_error();
    } catch (...) {
    }
  }
  return task<typename tr::result, typename tr::arg>{name};
}
} // namespace detail

/** The main guard (mp_main): first in main(). Throws mp::error for a
 * failed MPROC_TASK registration or mp_main's own failure; in a worker it
 * never returns. */
inline void main(int argc, char **argv) {
  if (detail::registration().code != MP_OK) detail::raise(detail::registration().code, detail::registration().text);
  detail::check(mp_main(argc, argv));
}
/** Whether this process was started by mproc. */
inline bool is_worker() noexcept { return mp_is_worker() == 1; }
inline int cpu_count() noexcept { return mp_cpu_count(); }
inline std::int64_t getpid() noexcept { return mp_getpid(); }

// ---------------------------------------------------------------- process
/** Options of a process (mp_process_options). */
struct process_options {
  std::string name;                            /**< default: the task's */
  start_method method = start_method::automatic;
  std::vector<object> objects;                 /**< the child's ctx.X(i) */
};

/** One task in its own process (mp_process). */
class process {
public:
  process() noexcept = default;
  /** Starts task(arg) in a child. */
  template <class R, class A>
  process(const task<R, A> &t, const detail::same_t<A> &arg, const process_options &o = {})
      : process(t.name, arg, o) {}
  /** Starts a task of no argument. */
  template <class R> explicit process(const task<R, void> &t, const process_options &o = {}) {
    start(t.name, nullptr, 0, o);
  }
  /** Starts the task called name with arg (encoded as mp::codec<A>). */
  template <class A> process(const char *name, const A &arg, const process_options &o = {}) {
    const std::string bytes = encode(arg);
    start(name, bytes.data(), bytes.size(), o);
  }
  process(adopt_t, mp_process *p) noexcept : h_(p) {}

  /** Waits for it to end: true once it has, false on timeout. */
  bool join(double timeout = forever) {
    const int rc = mp_process_join(h_.get(), timeout);
    if (rc == MP_ETIMEDOUT) return false;
    detail::check(rc);
    return true;
  }
  bool is_alive() const noexcept { return mp_process_is_alive(h_.get()) == 1; }
  /** Its exit code (mp::error MP_ESTATE while it runs). */
  int exitcode() const {
    int code = 0;
    detail::check(mp_process_exitcode(h_.get(), &code));
    return code;
  }
  std::int64_t pid() const noexcept { return mp_process_pid(h_.get()); }
  void terminate() { detail::check(mp_process_terminate(h_.get())); }
  void kill() { detail::check(mp_process_kill(h_.get())); }
  /** Its outcome as an mp::result (joins first). */
  mp::result outcome() {
    join();
    mp::result r;
    detail::check(mp_process_result(h_.get(), r.get()));
    return r;
  }
  /** Joins it and returns its task's value: mp::task_error, mp::crashed_error
   * and so on for a task that did not succeed. */
  template <class R = void> R get() { return outcome().value<R>(); }
  mp_process *handle() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return h_.get() != nullptr; }

private:
  void start(const char *name, const void *arg, std::size_t len, const process_options &o) {
    mp_process_options c{};
    c.name = o.name.empty() ? nullptr : o.name.c_str();
    c.start_method = static_cast<int>(o.method);
    c.objects = o.objects.empty() ? nullptr : o.objects.data();
    c.nobjects = o.objects.size();
    mp_process *p = nullptr;
    detail::check(mp_process_start(&p, name, arg, len, &c));
    h_.reset(p);
  }
  detail::handle<mp_process, detail::free_process> h_;
};

// ---------------------------------------------------------------- futures
namespace detail {
struct nothing {};
template <class R> using stored_t = std::conditional_t<std::is_void_v<R>, nothing, R>;
/** A callback given to apply_async: lives on the heap until the pool's
 * callback thread has run it (exactly once). */
struct callback_box {
  std::function<void(mp_async *)> fn;
  static void run(mp_async *a, void *ud) noexcept {
    std::unique_ptr<callback_box> box(static_cast<callback_box *>(ud));
    try {
      box->fn(a);
    } catch (const std::exception &e) {
      std::fprintf(stderr, "mproc: an exception escaped an apply_async callback: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "mproc: an exception escaped an apply_async callback\n");
    }
  }
};
} // namespace detail

namespace detail {
/** What every async job has (mp_async): wait, wait_for, ready, cancel. */
class async_base {
public:
  async_base() noexcept = default;
  async_base(adopt_t, mp_async *a) noexcept : h_(a) {}
  /** Waits until it is ready. */
  void wait() { check(mp_async_wait(h_.get(), forever)); }
  /** Waits up to d: true once ready. */
  template <class Rep, class Period> bool wait_for(const std::chrono::duration<Rep, Period> &d) {
    return wait_seconds(std::chrono::duration<double>(d).count());
  }
  /** Waits up to seconds: true once ready. */
  bool wait_seconds(double seconds) {
    const int rc = mp_async_wait(h_.get(), seconds < 0 ? 0 : seconds);
    if (rc == MP_ETIMEDOUT) return false;
    check(rc);
    return true;
  }
  bool ready() const noexcept { return mp_async_ready(h_.get()) == 1; }
  /** Cancels it: true, or false if it had already finished. */
  bool cancel() {
    const int rc = mp_async_cancel(h_.get());
    if (rc == MP_ESTATE) return false;
    check(rc);
    return true;
  }
  mp_async *handle() const noexcept { return h_.get(); }
  bool valid() const noexcept { return h_.get() != nullptr; }

private:
  ::mp::detail::handle<mp_async, free_async> h_;
};
} // namespace detail

/** A job of apply_async (mp_async), future-like: get, wait, wait_for,
 * ready, cancel. */
template <class R> class async_result : public detail::async_base {
public:
  async_result() noexcept = default;
  async_result(adopt_t, mp_async *a) noexcept : async_base(adopt, a) {}
  /** Waits, then its value, or the exception of how it failed. */
  R get() {
    wait();
    const mp_result *r = mp_async_result(handle());
    if (!r) throw error(MP_ESTATE, "mp::async_result::get: the job has no outcome");
    return result::value_of<R>(*r);
  }
};

/** A job of map_async (mp_async): get() is every item's value in input
 * order, or the lowest-index failure. */
template <class R> class async_map : public detail::async_base {
public:
  async_map() noexcept = default;
  async_map(adopt_t, mp_async *a) noexcept : async_base(adopt, a) {}
  /** Waits, then the values. */
  std::vector<R> get() {
    wait();
    std::size_t n = 0;
    const mp_result *r = mp_async_results(handle(), &n);
    std::vector<R> values;
    values.reserve(n);
    for (std::size_t i = 0; i < n; i++) values.push_back(result::value_of<R>(r[i]));
    return values;
  }
};

// ------------------------------------------------------------------- pool
/** Options of a pool (mp_pool_options). */
struct pool_options {
  int workers = 0; /**< 0: mp_cpu_count() */
  start_method method = start_method::automatic;
  std::string initializer;  /**< a task run once in each new worker */
  std::string initarg;      /**< its argument's bytes (mp::encode) */
  unsigned max_tasks_per_child = 0;
  double task_timeout = 0;  /**< seconds an item may run; 0 none */
  std::vector<object> objects; /**< given to every worker */
  /** initializer and initarg from a task and its argument. */
  template <class R, class A> pool_options &init(const task<R, A> &t, const detail::same_t<A> &arg) {
    initializer = t.name;
    initarg = encode<A>(arg);
    return *this;
  }
  template <class R> pool_options &init(const task<R, void> &t) {
    initializer = t.name;
    initarg.clear();
    return *this;
  }
};
/** Options of imap (mp_imap_options). */
struct imap_options {
  std::size_t chunksize = 0;
  bool unordered = false;
  std::size_t max_in_flight = 0;
};

namespace detail {
struct producer_base {
  virtual ~producer_base() = default;
  virtual int next(std::size_t index, mp_slice *item) noexcept = 0;
  std::exception_ptr failed;
  static int call(void *ud, std::size_t index, mp_slice *item) {
    return static_cast<producer_base *>(ud)->next(index, item);
  }
};
/** Inputs from a range, one at a time, encoded as they are asked for. */
template <class Range, class T> struct range_producer final : producer_base {
  explicit range_producer(Range &&r) : range(std::forward<Range>(r)), it(std::begin(range)), end(std::end(range)) {}
  int next(std::size_t, mp_slice *item) noexcept override {
    try {
      if (it == end) return 0;
      bytes.clear();
      codec<T>::encode(*it, bytes);
      ++it;
      item->data = bytes.data();
      item->len = bytes.size();
      return 1;
    } catch (...) {
      failed = std::current_exception();
      return MP_EINVAL;
    }
  }
  Range range; // a reference for an lvalue range, the range itself for an rvalue
  decltype(std::begin(std::declval<Range &>())) it;
  decltype(std::end(std::declval<Range &>())) end;
  std::string bytes;
};
} // namespace detail

/** The results of imap, as an input range: range-for over it. Items come
 * in input order (or completion order for imap_unordered); an item that
 * failed throws its exception when the iteration reaches it. */
template <class R> class imap_range {
public:
  imap_range() noexcept = default;
  imap_range(std::unique_ptr<detail::producer_base> src, mp_iter *it) noexcept : src_(std::move(src)), it_(it) {}

  /** The next result: its input index and value, or nothing after the
   * last. mp::timeout_error if none came within timeout. */
  std::optional<std::pair<std::size_t, R>> next(double timeout = forever) {
    mp::result r;
    std::size_t index = 0;
    const int rc = mp_iter_next(it_.get(), timeout, &index, r.get());
    if (rc != MP_OK && src_ && src_->failed) {
      std::exception_ptr e = src_->failed;
      src_->failed = nullptr;
      std::rethrow_exception(e);
    }
    if (rc == MP_ECLOSED) return std::nullopt;
    detail::check(rc);
    return std::make_pair(index, r.template value<R>());
  }

  class iterator {
  public:
    using iterator_category = std::input_iterator_tag;
    using value_type = R;
    using difference_type = std::ptrdiff_t;
    using pointer = const R *;
    using reference = const R &;
    iterator() noexcept = default;
    explicit iterator(imap_range *owner) : owner_(owner) { fetch(); }
    reference operator*() const { return cur_->second; }
    pointer operator->() const { return &cur_->second; }
    /** The input index of the current result. */
    std::size_t index() const { return cur_->first; }
    iterator &operator++() {
      fetch();
      return *this;
    }
    void operator++(int) { fetch(); }
    friend bool operator==(const iterator &a, const iterator &b) noexcept { return a.done() == b.done(); }
    friend bool operator!=(const iterator &a, const iterator &b) noexcept { return !(a == b); }

  private:
    bool done() const noexcept { return !owner_ || !cur_; }
    void fetch() {
      cur_.reset();
      cur_ = owner_->next();
    }
    imap_range *owner_ = nullptr;
    std::optional<std::pair<std::size_t, R>> cur_;
  };
  /** Starts the iteration (an input range: once). */
  iterator begin() { return iterator(this); }
  iterator end() noexcept { return iterator(); }
  mp_iter *handle() const noexcept { return it_.get(); }

private:
  // The iterator goes first (it_ is declared last): its producer lives
  // until the C iterator is freed.
  std::unique_ptr<detail::producer_base> src_;
  detail::handle<mp_iter, detail::free_iter> it_;
};

/** A pool of worker processes (mp_pool). */
class pool {
public:
  /** Starts one worker per CPU. */
  pool() : pool(pool_options{}) {}
  explicit pool(const pool_options &o) {
    mp_pool_options c{};
    c.workers = o.workers;
    c.start_method = static_cast<int>(o.method);
    c.initializer = o.initializer.empty() ? nullptr : o.initializer.c_str();
    c.initarg = o.initarg.empty() ? nullptr : o.initarg.data();
    c.initarg_len = o.initarg.size();
    c.max_tasks_per_child = o.max_tasks_per_child;
    c.task_timeout = o.task_timeout;
    c.objects = o.objects.empty() ? nullptr : o.objects.data();
    c.nobjects = o.objects.size();
    mp_pool *p = nullptr;
    detail::check(mp_pool_create(&p, &c));
    h_.reset(p);
  }
  pool(adopt_t, mp_pool *p) noexcept : h_(p) {}

  // apply: runs one task and waits for its value.
  template <class R, class A> R apply(const task<R, A> &t, const detail::same_t<A> &arg) {
    return apply<R, A>(t.name, arg);
  }
  template <class R> R apply(const task<R, void> &t) { return apply_bytes(t.name, nullptr, 0).template value<R>(); }
  /** The task called name, given arg; R is what it returns. */
  template <class R, class A> R apply(const char *name, const A &arg) {
    const std::string bytes = encode(arg);
    return apply_bytes(name, bytes.data(), bytes.size()).template value<R>();
  }

  // apply_async: submits one task; the future-like job comes back at once.
  template <class R, class A> async_result<R> apply_async(const task<R, A> &t, const detail::same_t<A> &arg) {
    return submit<R>(t.name, encode<A>(arg), nullptr, nullptr);
  }
  template <class R> async_result<R> apply_async(const task<R, void> &t) {
    return submit<R>(t.name, std::string(), nullptr, nullptr);
  }
  /** With callbacks (any copyable callables; nullptr for none), run on
   * the pool's callback thread before the job counts as ready:
   * on_result(value) (on_result() for a task that returns nothing) once
   * it succeeded, on_error(const mp::error &) otherwise. They run even if
   * the job is dropped first. An exception escaping one is written to
   * stderr (there is no caller to take it). */
  template <class R, class A, class OnResult, class OnError = std::nullptr_t>
  async_result<R> apply_async(const task<R, A> &t, const detail::same_t<A> &arg, OnResult on_result,
                              OnError on_error = nullptr) {
    return submit<R>(t.name, encode<A>(arg), std::move(on_result), std::move(on_error));
  }
  template <class R, class OnResult, class OnError = std::nullptr_t>
  async_result<R> apply_async(const task<R, void> &t, OnResult on_result, OnError on_error = nullptr) {
    return submit<R>(t.name, std::string(), std::move(on_result), std::move(on_error));
  }
  /** The task called name, given arg; R is what it returns. */
  template <class R, class A> async_result<R> apply_async(const char *name, const A &arg) {
    return submit<R>(name, encode<A>(arg), nullptr, nullptr);
  }
  template <class R, class A, class OnResult, class OnError = std::nullptr_t>
  async_result<R> apply_async(const char *name, const A &arg, OnResult on_result, OnError on_error = nullptr) {
    return submit<R>(name, encode<A>(arg), std::move(on_result), std::move(on_error));
  }

  // map: every item of a range, in input order, into a vector.
  template <class R, class A, class Range>
  std::vector<R> map(const task<R, A> &t, const Range &in, std::size_t chunksize = 0) {
    return map_as<R, A>(t.name, in, chunksize);
  }
  /** The task called name over in; the lowest-index failure is thrown
   * (mp::task_error, mp::crashed_error, ...) once every item is done. */
  template <class R, class Range> std::vector<R> map(const char *name, const Range &in, std::size_t chunksize = 0) {
    return map_as<R, std::decay_t<decltype(*std::begin(in))>>(name, in, chunksize);
  }

  /** map without waiting (mp_pool_map_async): the items are encoded and
   * copied before it returns. */
  template <class R, class A, class Range>
  async_map<R> map_async(const task<R, A> &t, const Range &in, std::size_t chunksize = 0) {
    return map_async_as<R, A>(t.name, in, chunksize);
  }
  template <class R, class Range> async_map<R> map_async(const char *name, const Range &in, std::size_t chunksize = 0) {
    return map_async_as<R, std::decay_t<decltype(*std::begin(in))>>(name, in, chunksize);
  }

  // imap: results as they complete, as a range-for range.
  template <class R, class A, class Range>
  imap_range<R> imap(const task<R, A> &t, Range &&in, const imap_options &o = {}) {
    return imap_as<R, A>(t.name, std::forward<Range>(in), o);
  }
  /** The task called name over in (pulled only as fast as the workers
   * take it), each result as R. in must outlive the iteration if it is
   * an lvalue; an rvalue is kept by the range. */
  template <class R, class Range> imap_range<R> imap(const char *name, Range &&in, const imap_options &o = {}) {
    return imap_as<R, std::decay_t<decltype(*std::begin(in))>>(name, std::forward<Range>(in), o);
  }
  template <class R, class A, class Range>
  imap_range<R> imap_unordered(const task<R, A> &t, Range &&in, imap_options o = {}) {
    o.unordered = true;
    return imap_as<R, A>(t.name, std::forward<Range>(in), o);
  }

  /** No new work; what is queued still runs. */
  void close() { detail::check(mp_pool_close(h_.get())); }
  /** After close or terminate: true once every worker has exited. */
  bool join(double timeout = forever) {
    const int rc = mp_pool_join(h_.get(), timeout);
    if (rc == MP_ETIMEDOUT) return false;
    detail::check(rc);
    return true;
  }
  /** Stops now: unfinished work reads MP_ECANCELLED. */
  void terminate() { detail::check(mp_pool_terminate(h_.get())); }
  mp_pool *handle() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return h_.get() != nullptr; }

private:
  template <class R, class OnResult, class OnError>
  async_result<R> submit(const char *name, const std::string &bytes, OnResult on_result, OnError on_error) {
    mp_async *a = nullptr;
    if constexpr (std::is_null_pointer_v<OnResult> && std::is_null_pointer_v<OnError>) {
      (void)on_result;
      (void)on_error;
      detail::check(mp_pool_apply_async(h_.get(), name, bytes.data(), bytes.size(), nullptr, nullptr, &a));
      return async_result<R>(adopt, a);
    } else {
      auto box = std::make_unique<detail::callback_box>();
      box->fn = [on_result = std::move(on_result), on_error = std::move(on_error)](mp_async *job) mutable {
        (void)on_result; // one of them may be nullptr, and unused
        (void)on_error;
        const mp_result *r = mp_async_result(job);
        // The outcome first, the callbacks outside the try: an mp::error
        // thrown by on_result is not the job's failure.
        std::exception_ptr failed;
        std::optional<detail::stored_t<R>> value;
        try {
          if (!r) throw error(MP_ESTATE, "mp::pool::apply_async: the job has no outcome");
          if constexpr (std::is_void_v<R>) {
            result::value_of<void>(*r);
            value.emplace();
          } else {
            value.emplace(result::value_of<R>(*r));
          }
        } catch (const error &) {
          failed = std::current_exception();
        }
        if (value) {
          if constexpr (!std::is_null_pointer_v<OnResult>) {
            if constexpr (std::is_void_v<R>)
              on_result();
            else
              on_result(std::move(*value));
          }
        } else if (failed) {
          if constexpr (!std::is_null_pointer_v<OnError>) {
            try {
              std::rethrow_exception(failed);
            } catch (const error &e) {
              on_error(e);
            }
          }
        }
      };
      detail::check(mp_pool_apply_async(h_.get(), name, bytes.data(), bytes.size(), &detail::callback_box::run,
                                        box.get(), &a)); // on failure the callback never runs: box frees it
      box.release(); // the callback's now: it frees it when it has run
      return async_result<R>(adopt, a);
    }
  }
  template <class R, class A, class Range> imap_range<R> imap_as(const char *name, Range &&in, const imap_options &o) {
    static_assert(!std::is_void_v<R>, "mp::pool::imap: the task must return a value");
    auto src = std::make_unique<detail::range_producer<Range, A>>(std::forward<Range>(in));
    mp_imap_options c{};
    c.chunksize = o.chunksize;
    c.unordered = o.unordered ? 1 : 0;
    c.max_in_flight = o.max_in_flight;
    mp_iter *it = nullptr;
    const int rc = mp_pool_imap(h_.get(), name, &detail::producer_base::call, src.get(), &c, &it);
    if (src->failed) std::rethrow_exception(src->failed);
    detail::check(rc);
    return imap_range<R>(std::move(src), it);
  }
  template <class R, class A, class Range>
  async_map<R> map_async_as(const char *name, const Range &in, std::size_t chunksize) {
    static_assert(!std::is_void_v<R>, "mp::pool::map_async: the task must return a value");
    std::vector<std::string> bytes;
    for (const auto &item : in) bytes.push_back(encode<A>(item));
    std::vector<mp_slice> slices(bytes.size());
    for (std::size_t i = 0; i < bytes.size(); i++) slices[i] = mp_slice{bytes[i].data(), bytes[i].size()};
    mp_map_options o{};
    o.chunksize = chunksize;
    mp_async *a = nullptr;
    detail::check(mp_pool_map_async(h_.get(), name, slices.empty() ? nullptr : slices.data(), slices.size(), &o,
                                    nullptr, nullptr, &a));
    return async_map<R>(adopt, a);
  }
  /** map, each item encoded as an A. */
  template <class R, class A, class Range> std::vector<R> map_as(const char *name, const Range &in, std::size_t chunksize) {
    static_assert(!std::is_void_v<R>, "mp::pool::map: the task must return a value (use apply_async for one that does not)");
    std::vector<std::string> bytes;
    for (const auto &item : in) bytes.push_back(encode<A>(item));
    std::vector<mp_slice> slices(bytes.size());
    for (std::size_t i = 0; i < bytes.size(); i++) slices[i] = mp_slice{bytes[i].data(), bytes[i].size()};
    std::vector<mp_result> raw(bytes.size());
    std::vector<mp::result> out(bytes.size());
    mp_map_options o{};
    o.chunksize = chunksize;
    const int rc = mp_pool_map_slices(h_.get(), name, slices.empty() ? nullptr : slices.data(), slices.size(),
                                      raw.empty() ? nullptr : raw.data(), &o);
    const std::string text = rc == MP_OK ? std::string() : std::string(mp_last_error());
    bool any_failed = false;
    for (std::size_t i = 0; i < raw.size(); i++) {
      *out[i].get() = raw[i]; // each outcome is out[i]'s from here on
      any_failed = any_failed || raw[i].status != MP_OK;
    }
    // A failure before anything ran has no failed item to tell it.
    if (rc != MP_OK && !any_failed) detail::raise(rc, text);
    std::vector<R> values;
    values.reserve(out.size());
    for (auto &r : out) values.push_back(r.template value<R>());
    return values;
  }
  mp::result apply_bytes(const char *name, const void *arg, std::size_t len) {
    mp::result r;
    detail::check(mp_pool_apply(h_.get(), name, arg, len, r.get()));
    return r;
  }
  detail::handle<mp_pool, detail::free_pool> h_;
};

} // namespace mp

/**
 * Registers fn under its own name (before mp::main, as MP_REGISTER) and
 * defines fn_task, its typed handle: `pool.apply(fn_task, arg)`. At
 * namespace scope it runs before main(); a failure is thrown by mp::main.
 */
#define MPROC_TASK(fn) static const auto fn##_task = ::mp::detail::register_static<&fn>(#fn)
/** MPROC_TASK under a name of your choosing: defines handle. */
#define MPROC_TASK_NAMED(handle, name, fn) static const auto handle = ::mp::detail::register_static<&fn>(name)

#endif /* MPROC_HPP */
