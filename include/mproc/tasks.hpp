/* mproc.hpp, part: the task context, typed tasks and their registration, process
 * (included by mproc.hpp; see there and docs/cpp.md). */
#ifndef MPROC_CXX_TASKS_HPP
#define MPROC_CXX_TASKS_HPP

#include "manager.hpp"

namespace mp {
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
  /** The i-th object as an OS handle: the descriptor / HANDLE, the call's. */
  mp_os_handle os_handle(std::size_t i) const {
    mp_os_handle h;
    if (mp_call_oshandle(call_, i, &h) != MP_OK) throw error(MP_EINVAL, mp_last_error());
    return h;
  }
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

} // namespace mp

/**
 * Registers fn under its own name (before mp::main, as MP_REGISTER) and
 * defines fn_task, its typed handle: `pool.apply(fn_task, arg)`. At
 * namespace scope it runs before main(); a failure is thrown by mp::main.
 */
#define MPROC_TASK(fn) static const auto fn##_task = ::mp::detail::register_static<&fn>(#fn)
/** MPROC_TASK under a name of your choosing: defines handle. */
#define MPROC_TASK_NAMED(handle, name, fn) static const auto handle = ::mp::detail::register_static<&fn>(name)

#endif /* MPROC_CXX_TASKS_HPP */
