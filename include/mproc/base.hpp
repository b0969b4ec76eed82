/* mproc.hpp, part: errors, the codec, results and handles
 * (included by mproc.hpp; see there and docs/cpp.md). */
#ifndef MPROC_CXX_BASE_HPP
#define MPROC_CXX_BASE_HPP

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
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
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
template <class T> struct is_string_view : std::false_type {};
template <class C, class Tr> struct is_string_view<std::basic_string_view<C, Tr>> : std::true_type {};
/* A string_view is trivially copyable but is a pointer and a length: the
 * address means nothing in another process (send a std::string). A user's
 * struct holding a pointer cannot be told apart: docs/cpp.md says so. */
template <class T>
inline constexpr bool plain_v = std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> &&
                                !std::is_member_pointer_v<T> && !std::is_array_v<T> && !std::is_void_v<T> &&
                                !is_string_view<std::remove_cv_t<T>>::value;
template <class T> struct is_vector : std::false_type {};
template <class T, class A> struct is_vector<std::vector<T, A>> : std::true_type {};
/* A T made from its sizeof(T) bytes. A trivially copyable T may have no
 * default constructor: then it is built from a copy of itself, which the
 * bytes are (the copy constructor of such a type copies the bytes). */
template <class T> T from_bytes(const void *data) {
  if constexpr (std::is_default_constructible_v<T>) {
    T value;
    std::memcpy(static_cast<void *>(&value), data, sizeof value);
    return value;
  } else {
    alignas(T) unsigned char raw[sizeof(T)];
    std::memcpy(raw, data, sizeof(T));
    return T(*std::launder(reinterpret_cast<const T *>(raw)));
  }
}
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
    if constexpr (std::is_same_v<std::remove_cv_t<T>, bool>) {
      // Only 0 and 1 are bools: any other byte read as one is undefined.
      const unsigned char b = *static_cast<const unsigned char *>(data);
      if (b > 1) throw decode_error("mp::codec: byte " + std::to_string(b) + " is not a bool (0 or 1)");
      return b == 1;
    } else {
      return detail::from_bytes<T>(data);
    }
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
  static_assert(!std::is_same_v<T, bool>, "mp::codec: std::vector<bool> keeps no bytes of its own to send; "
                                           "use std::vector<std::uint8_t> (or char)");
  static std::vector<T, A> decode(const void *data, std::size_t len) {
    if (len % sizeof(T) != 0) detail::wrong_size("elements", len, sizeof(T), true);
    std::vector<T, A> value;
    if constexpr (std::is_default_constructible_v<T>) {
      value.resize(len / sizeof(T));
      if (len) std::memcpy(static_cast<void *>(value.data()), data, len);
    } else {
      value.reserve(len / sizeof(T));
      for (std::size_t at = 0; at < len; at += sizeof(T))
        value.push_back(detail::from_bytes<T>(static_cast<const unsigned char *>(data) + at));
    }
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
MPROC_HPP_FREE(oshandle)
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

} // namespace mp

#endif /* MPROC_CXX_BASE_HPP */
