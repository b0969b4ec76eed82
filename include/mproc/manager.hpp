/* mproc.hpp, part: the manager and its dict and list proxies
 * (included by mproc.hpp; see there and docs/cpp.md). */
#ifndef MPROC_CXX_MANAGER_HPP
#define MPROC_CXX_MANAGER_HPP

#include "objects.hpp"

namespace mp {
/* Every call below is one round trip to the manager's server, carried out
 * there in one step (mproc.h's Manager group). A buffer a call hands out
 * is owned by a detail::buffer before its return code is checked: it is
 * released (mp_free) whether the call, or decoding its bytes, throws. */

/** A proxy for a manager's dict (mp_dict): string keys, typed values, in
 * insertion order. */
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
  /** Whether there is a d[key] (Python's `key in d`; mp_dict_contains). */
  bool contains(const std::string &key) const {
    int found = 0;
    detail::check(mp_dict_contains(h_.get(), key.c_str(), &found));
    return found == 1;
  }
  /** Removes d[key]: true, or false if there was none. */
  bool erase(const std::string &key) {
    const int rc = mp_dict_del(h_.get(), key.c_str());
    if (rc == MP_ENOTFOUND) return false;
    detail::check(rc);
    return true;
  }
  /** Removes d[key] and returns its value, in one step (Python's
   * d.pop(key)): of several processes popping one key, one gets it.
   * mp::not_found_error if there is none. */
  template <class T> T pop(const std::string &key) {
    void *data = nullptr;
    std::size_t len = 0;
    const int rc = mp_dict_pop(h_.get(), key.c_str(), &data, &len);
    detail::buffer owned(data);
    detail::check(rc);
    return decode<T>(data, len);
  }
  /** As pop(key), but dflt when there is no such key (Python's
   * d.pop(key, default)). */
  template <class T> T pop(const std::string &key, const T &dflt) {
    void *data = nullptr;
    std::size_t len = 0;
    const int rc = mp_dict_pop(h_.get(), key.c_str(), &data, &len);
    detail::buffer owned(data);
    if (rc == MP_ENOTFOUND) return dflt;
    detail::check(rc);
    return decode<T>(data, len);
  }
  /** d[key] = dflt unless key is there, in one step, and the value d[key]
   * has afterwards (Python's d.setdefault(key, default)): of several
   * processes setting one key, the first one's value stays. */
  template <class T> T setdefault(const std::string &key, const T &dflt) {
    const std::string bytes = encode(dflt);
    void *data = nullptr;
    std::size_t len = 0;
    const int rc = mp_dict_setdefault(h_.get(), key.c_str(), bytes.data(), bytes.size(), &data, &len);
    detail::buffer owned(data);
    detail::check(rc);
    return decode<T>(data, len);
  }
  /** Removes every key (Python's d.clear()). */
  void clear() { detail::check(mp_dict_clear(h_.get())); }
  /** d[k] = src[k] for every key of src, in one step (Python's
   * d.update(src)); src is a dict of the same manager (mp::error
   * MP_EINVAL if not). The C call takes no other source: to add the
   * entries of a std::map, set() each (one step each, not all in one). */
  void update(const dict &src) { detail::check(mp_dict_update(h_.get(), src.h_.get())); }
  /** The keys, all taken in one step, in insertion order. */
  std::vector<std::string> keys() const {
    char **block = nullptr;
    std::size_t n = 0;
    const int rc = mp_dict_keys(h_.get(), &block, &n);
    detail::buffer owned(block); // the array and its strings: one mp_free
    detail::check(rc);
    std::vector<std::string> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; i++) out.emplace_back(block[i]);
    return out;
  }
  /** The keys and their values as T, all taken in one step, in insertion
   * order (mp::decode_error if a value does not make a T). */
  template <class T> std::vector<std::pair<std::string, T>> items() const {
    mp_dict_item *block = nullptr;
    std::size_t n = 0;
    const int rc = mp_dict_items(h_.get(), &block, &n);
    detail::buffer owned(block); // the array, keys and values: one mp_free
    detail::check(rc);
    std::vector<std::pair<std::string, T>> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; i++) out.emplace_back(block[i].key, decode<T>(block[i].val, block[i].len));
    return out;
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
  /** pop's index for the last item (MP_LIST_LAST). */
  static constexpr std::size_t last = MP_LIST_LAST;
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
  /** Item i = value (Python's l[i] = value; mp::not_found_error past the
   * end). */
  template <class T> void set(std::size_t i, const T &value) {
    const std::string bytes = encode(value);
    detail::check(mp_list_set(h_.get(), i, bytes.data(), bytes.size()));
  }
  /** Inserts value before item i, in one step (Python's l.insert(i, v)):
   * an i at or past the end appends. */
  template <class T> void insert(std::size_t i, const T &value) {
    const std::string bytes = encode(value);
    detail::check(mp_list_insert(h_.get(), i, bytes.data(), bytes.size()));
  }
  /** Removes item i (by default the last) and returns it, in one step
   * (Python's l.pop(i)): of several processes popping, each gets a
   * different item. mp::not_found_error past the end or on an empty
   * list. */
  template <class T> T pop(std::size_t i = last) {
    void *data = nullptr;
    std::size_t len = 0;
    const int rc = mp_list_pop(h_.get(), i, &data, &len);
    detail::buffer owned(data);
    detail::check(rc);
    return decode<T>(data, len);
  }
  /** Removes item i (Python's del l[i]): true, or false past the end (as
   * dict::erase for a missing key; list::last is past the end here). */
  bool erase(std::size_t i) {
    const int rc = mp_list_delete(h_.get(), i);
    if (rc == MP_ENOTFOUND) return false;
    detail::check(rc);
    return true;
  }
  /** Appends src's items as they are now, in one step (Python's
   * l.extend(src)); src is a list of the same manager (mp::error
   * MP_EINVAL if not), this list itself too (it doubles). To append
   * values of a std::vector, append() each. */
  void extend(const list &src) { detail::check(mp_list_extend(h_.get(), src.h_.get())); }
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

} // namespace mp

#endif /* MPROC_CXX_MANAGER_HPP */
