/* The task table: names to functions, filled before mp_main() in every
 * process, so a spawned child rebuilds the same table its parent has. */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "manager.h"

typedef struct task_entry {
  char name[MP__TASK_NAME_MAX + 1];
  mp_task_fn fn;
} task_entry;

static task_entry *tasks;
static size_t ntasks, tasks_cap;

int mp_register(const char *name, mp_task_fn fn) {
  if (!name) return mp__set_error(MP_EINVAL, "mp_register: name is NULL");
  if (!fn) return mp__set_error(MP_EINVAL, "mp_register(\"%.63s\"): fn is NULL", name);
  size_t len = strlen(name);
  if (len == 0) return mp__set_error(MP_EINVAL, "mp_register: the name is empty");
  if (len > MP__TASK_NAME_MAX)
    return mp__set_error(MP_EINVAL, "mp_register(\"%.40s...\"): names are at most %d bytes, this one has %llu",
                         name, MP__TASK_NAME_MAX, (unsigned long long)len);
  if (mp__main_has_run())
    return mp__set_error(MP_EBOOTSTRAP,
                         "mp_register(\"%s\"): register tasks before mp_main(); a spawned child "
                         "never runs code after mp_main, so it would not know this task",
                         name);
  if (mp__task_lookup(name))
    return mp__set_error(MP_EINVAL, "mp_register(\"%s\"): a task of that name is already registered", name);
  if (ntasks == tasks_cap) {
    size_t cap = tasks_cap ? tasks_cap * 2 : 16;
    task_entry *t = realloc(tasks, cap * sizeof *t);
    if (!t) return mp__set_error(MP_ENOMEM, "mp_register: out of memory");
    tasks = t;
    tasks_cap = cap;
  }
  memcpy(tasks[ntasks].name, name, len + 1);
  tasks[ntasks].fn = fn;
  ntasks++;
  return MP_OK;
}

/* Tasks of the library itself (the manager's server), found in every
 * process without the user registering them: a spawned child rebuilds
 * only what main() registers. A user's task cannot take their names. */
static const struct {
  const char *name;
  mp_task_fn fn;
} builtins[] = {{MP__MGR_TASK, mp__manager_serve}};

mp_task_fn mp__task_lookup(const char *name) {
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
    if (strcmp(builtins[i].name, name) == 0) return builtins[i].fn;
  for (size_t i = 0; i < ntasks; i++)
    if (strcmp(tasks[i].name, name) == 0) return tasks[i].fn;
  return NULL;
}
