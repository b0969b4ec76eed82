/* mproc.hpp, part: futures and the pool
 * (included by mproc.hpp; see there and docs/cpp.md). */
#ifndef MPROC_CXX_POOL_HPP
#define MPROC_CXX_POOL_HPP

#include "tasks.hpp"

namespace mp {
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
  double timeout = 0; ///< per item, as call_options::timeout
};
/** Options of one apply, apply_async or map call (mp_call_options),
 * given first: pool.apply_async(mp::call_options{0.5}, task, arg). */
struct call_options {
  double timeout = 0; ///< seconds per item; 0: the pool's task_timeout; INFINITY: none
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

  /** apply held to o.timeout instead of the pool's task_timeout (an item
   * over it throws mp::timeout_error). */
  template <class R, class A> R apply(const call_options &o, const task<R, A> &t, const detail::same_t<A> &arg) {
    const std::string bytes = encode<A>(arg);
    const mp_call_options c = c_options(o);
    return apply_bytes(t.name, bytes.data(), bytes.size(), &c).template value<R>();
  }

  // apply_async: submits one task; the future-like job comes back at once.
  template <class R, class A> async_result<R> apply_async(const task<R, A> &t, const detail::same_t<A> &arg) {
    return submit<R>(t.name, encode<A>(arg), nullptr, nullptr);
  }
  template <class R> async_result<R> apply_async(const task<R, void> &t) {
    return submit<R>(t.name, std::string(), nullptr, nullptr);
  }
  /** apply_async held to o.timeout instead of the pool's task_timeout. */
  template <class R, class A>
  async_result<R> apply_async(const call_options &o, const task<R, A> &t, const detail::same_t<A> &arg) {
    const mp_call_options c = c_options(o);
    return submit<R>(t.name, encode<A>(arg), nullptr, nullptr, &c);
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
  /** map with each item held to o.timeout instead of the pool's. */
  template <class R, class A, class Range>
  std::vector<R> map(const call_options &o, const task<R, A> &t, const Range &in, std::size_t chunksize = 0) {
    const mp_call_options c = c_options(o);
    return map_as<R, A>(t.name, in, chunksize, &c);
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
  static mp_call_options c_options(const call_options &o) noexcept {
    mp_call_options c{};
    c.timeout = o.timeout;
    return c;
  }
  template <class R, class OnResult, class OnError>
  async_result<R> submit(const char *name, const std::string &bytes, OnResult on_result, OnError on_error,
                         const mp_call_options *call = nullptr) {
    mp_async *a = nullptr;
    if constexpr (std::is_null_pointer_v<OnResult> && std::is_null_pointer_v<OnError>) {
      (void)on_result;
      (void)on_error;
      detail::check(
          mp_pool_apply_async_opts(h_.get(), name, bytes.data(), bytes.size(), call, nullptr, nullptr, &a));
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
      detail::check(mp_pool_apply_async_opts(h_.get(), name, bytes.data(), bytes.size(), call,
                                             &detail::callback_box::run, box.get(),
                                             &a)); // on failure the callback never runs: box frees it
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
    mp_call_options call{};
    call.timeout = o.timeout;
    c.call = &call;
    mp_iter *it = nullptr;
    const int rc = mp_pool_imap(h_.get(), name, &detail::producer_base::call, src.get(), &c, &it);
    if (rc != MP_OK) {
      // Only the first pull's failure comes back from mp_pool_imap; a later
      // one (even within its first batch) is the iteration's to throw,
      // after the items before it, and the iterator is the range's to free.
      if (src->failed) std::rethrow_exception(src->failed);
      detail::check(rc);
    }
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
  template <class R, class A, class Range>
  std::vector<R> map_as(const char *name, const Range &in, std::size_t chunksize, const mp_call_options *call = nullptr) {
    static_assert(!std::is_void_v<R>, "mp::pool::map: the task must return a value (use apply_async for one that does not)");
    std::vector<std::string> bytes;
    for (const auto &item : in) bytes.push_back(encode<A>(item));
    std::vector<mp_slice> slices(bytes.size());
    for (std::size_t i = 0; i < bytes.size(); i++) slices[i] = mp_slice{bytes[i].data(), bytes[i].size()};
    std::vector<mp_result> raw(bytes.size());
    std::vector<mp::result> out(bytes.size());
    mp_map_options o{};
    o.chunksize = chunksize;
    o.call = call;
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
  mp::result apply_bytes(const char *name, const void *arg, std::size_t len, const mp_call_options *call = nullptr) {
    mp::result r;
    detail::check(mp_pool_apply_opts(h_.get(), name, arg, len, call, r.get()));
    return r;
  }
  detail::handle<mp_pool, detail::free_pool> h_;
};

} // namespace mp

#endif /* MPROC_CXX_POOL_HPP */
