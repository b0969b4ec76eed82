/* mproc.hpp, part: queue, pipe, synchronization and shared memory
 * (included by mproc.hpp; see there and docs/cpp.md). */
#ifndef MPROC_CXX_OBJECTS_HPP
#define MPROC_CXX_OBJECTS_HPP

#include "base.hpp"

namespace mp {
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

// ------------------------------------------------------------- OS handles
/** An OS descriptor (POSIX) / HANDLE (Windows) to hand to children
 * (mp_oshandle). The library keeps its own copy: the one given stays the
 * caller's. In a task, ctx.os_handle(i) gives a wrapper whose handle
 * belongs to the call (do not close it; dup it to keep it). */
class os_handle {
public:
  explicit os_handle(mp_os_handle h) {
    mp_oshandle *x = nullptr;
    detail::check(mp_oshandle_create(&x, h));
    h_.reset(x);
  }
  os_handle(adopt_t, mp_oshandle *x) noexcept : h_(x) {}
  /** The library's copy in this process (owned by this object). */
  mp_os_handle native() const noexcept { return mp_oshandle_get(h_.get()); }
  object obj() const noexcept { return mp_oshandle_obj(h_.get()); }
  mp_oshandle *get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return h_.get() != nullptr; }

private:
  detail::handle<mp_oshandle, detail::free_oshandle> h_;
};

} // namespace mp

#endif /* MPROC_CXX_OBJECTS_HPP */
