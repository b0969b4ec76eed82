/* mproc.hpp, part 5: waiting on many (mp_wait): mp::wait over a mixed
 * list of jobs, processes, connections and queues, and mp::as_completed
 * over futures. See docs/cpp.md. */
#ifndef MPROC_WAIT_HPP
#define MPROC_WAIT_HPP

#include <cstddef>
#include <initializer_list>
#include <vector>

#include "pool.hpp"

namespace mp {

/** One entry of mp::wait's list: a reference to a job, process,
 * connection or queue (it owns nothing: the object must outlive the
 * wait). */
class waitable {
public:
  waitable(const detail::async_base &a) noexcept : w_(mp_waitable_async(a.handle())) {}
  waitable(const process &p) noexcept : w_(mp_waitable_process(p.handle())) {}
  waitable(const connection &c) noexcept : w_(mp_waitable_conn(c.get())) {}
  waitable(const queue &q) noexcept : w_(mp_waitable_queue(q.get())) {}
  const mp_waitable &c() const noexcept { return w_; }

private:
  mp_waitable w_;
};

/** Waits until one of objects is ready, or timeout seconds pass (mp_wait):
 * the indices of those ready, in order; empty if none was in time. Errors
 * (an empty list, a moved-from object, one twice, a connection that only
 * sends) throw mp::error with MP_EINVAL or MP_ESTATE. */
inline std::vector<std::size_t> wait(const std::vector<waitable> &objects, double timeout = forever) {
  std::vector<mp_waitable> set;
  set.reserve(objects.size());
  for (const waitable &w : objects) set.push_back(w.c());
  const int rc = mp_wait(set.data(), set.size(), timeout);
  std::vector<std::size_t> ready;
  if (rc == MP_ETIMEDOUT) return ready;
  detail::check(rc < 0 ? rc : MP_OK);
  for (std::size_t i = 0; i < set.size(); i++)
    if (set[i].ready) ready.push_back(i);
  return ready;
}
/** The same for a braced list: mp::wait({job, proc, conn}, 5.0). */
inline std::vector<std::size_t> wait(std::initializer_list<waitable> objects, double timeout = forever) {
  return wait(std::vector<waitable>(objects), timeout);
}

/** concurrent.futures.as_completed: calls fn(future) once for each of
 * futures (async_result or async_map) as it becomes ready, in the order
 * they do, until all have been; mp::timeout_error when none is for
 * timeout seconds (those not yet handed to fn are the ones not ready). */
template <class Future, class Fn> void as_completed(std::vector<Future> &futures, Fn &&fn, double timeout = forever) {
  std::vector<mp_waitable> set;
  std::vector<Future *> of;
  for (Future &f : futures) {
    set.push_back(mp_waitable_async(f.handle()));
    of.push_back(&f);
  }
  std::size_t left = set.size();
  while (left) {
    const int rc = mp_wait(set.data(), left, timeout);
    if (rc < 0) detail::check(rc);
    for (std::size_t i = 0; i < left;) {
      if (!set[i].ready) {
        i++;
        continue;
      }
      Future *f = of[i];
      set[i] = set[--left];
      of[i] = of[left];
      fn(*f);
    }
  }
}

/** mp_pool_fileno: the pool's pollable handle (see mproc.h). */
inline mp_os_handle pollable_handle(const pool &p) {
  mp_os_handle h = 0;
  detail::check(mp_pool_fileno(p.handle(), &h));
  return h;
}
/** mp_conn_fileno: the end's pollable descriptor (POSIX; see mproc.h). */
inline mp_os_handle pollable_handle(const connection &c) {
  mp_os_handle h = 0;
  detail::check(mp_conn_fileno(c.get(), &h));
  return h;
}

} // namespace mp

#endif /* MPROC_WAIT_HPP */
