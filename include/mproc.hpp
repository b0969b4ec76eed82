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

/* In six parts, each one sitting long, each including the one before:
 * base (errors, codec, results, handles), objects (queue, pipe, sync,
 * shared memory), manager (the manager, its dicts and lists), tasks
 * (context, typed tasks, process), pool (futures, the pool), wait
 * (mp::wait, mp::as_completed). */
#include "mproc/wait.hpp"

#endif /* MPROC_HPP */
