/* Manager internals shared by its client side (src/manager.c), its server
 * (src/manager_server.c, src/manager_store.c) and the object layer. */
#ifndef MPROC_MANAGER_H
#define MPROC_MANAGER_H

#include "core.h"

/* The built-in task the server process runs; registry.c finds it in every
 * process without the user registering it. Argument: the auth token.
 * Object 0: the sending end of a pipe for the ready message. */
#define MP__MGR_TASK "mproc:manager"
int mp__manager_serve(mp_call *call);

/* The ready message the server sends on that pipe: one status byte, 0 and
 * then the endpoint name, or non-zero and then the reason it failed. */

void mp__manager_release(mp_manager *m);
/* The manager's connection, for the proxies (src/manager_client.h). */
struct mp__mgr_client *mp__manager_client(mp_manager *m);

/* For tests that kill the server or play a hostile client: the server's
 * pid (0 if this process did not start it) and the endpoint's name. */
int64_t mp__manager_server_pid(mp_manager *m);
const char *mp__manager_endpoint(mp_manager *m);
/* For tests of lanes: the lane this process's connection uses, -1 for
 * none (not connected yet, or all lanes were taken); and a second client
 * of the same manager in this process, with its own connection (free it
 * with mp__manager_release, before m). */
int mp__manager_lane(mp_manager *m);
int mp__manager_twin(mp_manager *m, mp_manager **out);
/* The lane region this process maps (for tests that scribble on it). */
void *mp__manager_lanes(mp_manager *m);

#endif
