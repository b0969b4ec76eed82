/* Manager lanes: the shared-memory fast path of a manager connection
 * (the protocol is described at the top of src/manager_lane.c). */
#ifndef MPROC_MANAGER_LANE_H
#define MPROC_MANAGER_LANE_H

#include "core.h"
#include "manager_wire.h"

#define MP__LANE_COUNT 32u
#define MP__LANE_AREA ((uint32_t)64 * 1024) /* request area, and again response area */
#define MP__LANE_HEAD 4096u                 /* the region's header; each lane's header */
#define MP__LANE_STRIDE ((size_t)MP__LANE_HEAD + 2 * (size_t)MP__LANE_AREA)
#define MP__LANE_REGION_SIZE ((size_t)MP__LANE_HEAD + MP__LANE_COUNT * MP__LANE_STRIDE)
/* The reply to MP__MGR_LANE when every lane is taken. */
#define MP__LANE_NONE UINT64_MAX
/* How long each side spins on the lane before it sleeps on its socket: at
 * most MP__LANE_SPIN, adapted to how spins have gone (see mp__lane_spin). */
#define MP__LANE_SPIN 50e-6
#define MP__LANE_SPIN_MIN 1e-6

/* One lane's header. Every word is written by one side only, except the
 * two sleeping flags, which the other side takes back (1 -> 0) when it
 * rings. The request and response words sit on their own cache lines. */
typedef struct mp__lane {
  volatile uint32_t req_seq; /* client: the last request published */
  volatile uint32_t req_op;
  volatile uint32_t req_len;
  uint8_t pad0[64 - 12];
  volatile uint32_t resp_seq; /* server: the last request answered */
  volatile uint32_t resp_status;
  volatile uint32_t resp_len; /* MP__LANE_ON_SOCKET: the reply comes as a frame */
  uint8_t pad1[64 - 12];
  volatile uint32_t server_sleeping;
  uint8_t pad2[64 - 4];
  volatile uint32_t client_sleeping;
  uint8_t pad3[64 - 4];
} mp__lane;

#define MP__LANE_ON_SOCKET UINT32_MAX

/* The owner writes the region's header once; everyone else checks it
 * (MP_EPROTO if it is not a lane region of this build). */
void mp__lane_region_init(void *region);
int mp__lane_region_check(const void *region, size_t size);
mp__lane *mp__lane_at(void *region, uint32_t index);
uint8_t *mp__lane_req_area(mp__lane *l);
uint8_t *mp__lane_resp_area(mp__lane *l);

/* Server, when it hands the lane to a new session: both sequences and
 * flags back to 0. */
void mp__lane_reset(mp__lane *l);

/* The bytes a request frame's body would hold, or 0 if it does not fit a
 * lane (then it goes over the socket). */
size_t mp__lane_request_size(const mp__mgr_request *rq);
/* Client: writes rq into the lane and publishes it as seq. */
void mp__lane_put_request(mp__lane *l, uint32_t seq, const mp__mgr_request *rq);
/* Server: copies the published request out of the lane into copy
 * (MP__LANE_AREA bytes: the client may still scribble on the lane) and
 * decodes it there. MP_EPROTO for anything malformed. */
int mp__lane_take_request(const mp__lane *l, uint8_t *copy, mp__mgr_request *rq);
/* Server: writes a reply (p1 then p2) and publishes it as seq; one that
 * does not fit is published as MP__LANE_ON_SOCKET, and the caller then
 * sends it as a REPLY frame with id seq. Returns 1 if it fit. */
int mp__lane_put_reply(mp__lane *l, uint32_t seq, int status, const void *p1, size_t n1, const void *p2,
                       size_t n2);
/* Client: the published reply. MP_OK with *status, and *body and len
 * pointing into the lane, or *on_socket; MP_EPROTO if malformed. */
int mp__lane_get_reply(mp__lane *l, int *status, const uint8_t **body, size_t *len, int *on_socket);

/* One waiter's spin budget (zero-initialised is fine). */
typedef struct mp__lane_spinner {
  double budget;
  unsigned waits;
} mp__lane_spinner;
/* Spins up to the waiter's budget for *seq to read want: 1 if it did.
 * A spin that succeeds doubles the budget (up to MP__LANE_SPIN); one that
 * fails drops it to MP__LANE_SPIN_MIN: when there are more runnable
 * threads than CPUs, the peer a spinner waits for may not run at all
 * while it spins, and a spinner that loses its CPU is not woken by the
 * peer's answer (only sleepers are rung): it waits for its next turn, a
 * scheduler slice. For the same reason it never yields. (Measured on 2
 * cores with two busy loops running: 4 clients fell from hundreds of
 * thousands of calls a second to about 5000 with a fixed 50 us spin and
 * a yield every 1024 rounds; with this, 100 000 to 900 000, against
 * 62 000 over the socket.) Every 64th wait spins the whole MP__LANE_SPIN,
 * so the budget comes back once the load goes. */
int mp__lane_spin(volatile uint32_t *seq, uint32_t want, mp__lane_spinner *s);
/* After publishing: if the peer announced it sleeps, takes its flag back
 * and writes a doorbell frame on wr. */
int mp__lane_ring(volatile uint32_t *peer_sleeping, mp__handle wr);
/* Announce-then-look: sets *my_sleeping (a full fence), then returns what
 * *seq reads now. If that is what the caller waits for, it must not
 * block: it withdraws instead. */
uint32_t mp__lane_announce(volatile uint32_t *my_sleeping, volatile uint32_t *seq);
/* Takes the flag back (after a look that found work, or any wake-up): 1
 * if the peer took it first, so a doorbell is on its way or was read. */
int mp__lane_withdraw(volatile uint32_t *my_sleeping);

#endif
