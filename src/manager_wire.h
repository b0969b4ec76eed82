/* The manager's protocol, on each client's own connection: one REQUEST
 * frame, then one REPLY frame, strictly in turn.
 *
 * REQUEST: header flags = the op, id = the client's call number; payload =
 *   u64 obj, u64 num, u32 keylen, key bytes, then the value (the rest).
 *   Which fields an op uses is fixed (below); the others must be zero or
 *   empty, so anything unexpected is malformed.
 * REPLY: flags = -status (0 for MP_OK), id = the request's; payload = the
 *   answer (a value, a u64, nothing) or, on failure, the error text.
 *
 * The first request on a connection must be HELLO with the right token;
 * a malformed frame is MP_EPROTO and the connection is dropped.
 *
 * After HELLO a client may ask for a shared-memory lane (MP__MGR_LANE);
 * calls on a lane carry the same request bodies and replies, and either
 * side may then find DOORBELL frames (no body) on its connection: wake-ups,
 * skipped by any reader (src/manager_lane.c). */
#ifndef MPROC_MANAGER_WIRE_H
#define MPROC_MANAGER_WIRE_H

#include "core.h"
#include "wire.h"

#define MP__MGR_PROTOCOL 3 /* 3: the dict and list methods after MP__MGR_LANE */
#define MP__MGR_TOKEN_LEN 32
/* The fixed fields and the longest key: what a request holds besides its value. */
#define MP__MGR_FIXED 20
#define MP__MGR_META_MAX (MP__MGR_FIXED + MP_MANAGER_KEY_MAX)
#define MP__MGR_REQUEST_MAX (MP_MAX_MESSAGE + (size_t)MP__MGR_META_MAX)
#define MP__MGR_TEXT_MAX 512 /* error text in a reply */

enum mp__mgr_op {
  MP__MGR_HELLO = 1,   /* num: protocol; value: the token */
  MP__MGR_OPEN_DICT,   /* key: the name; reply: u64 obj */
  MP__MGR_OPEN_LIST,   /* key: the name; reply: u64 obj */
  MP__MGR_DICT_SET,    /* obj, key, value */
  MP__MGR_DICT_GET,    /* obj, key; reply: the value */
  MP__MGR_DICT_DEL,    /* obj, key */
  MP__MGR_DICT_LEN,    /* obj; reply: u64 */
  MP__MGR_DICT_ADD,    /* obj, num: delta (two's complement), key; reply: u64 (the new int64) */
  MP__MGR_LIST_APPEND, /* obj, value */
  MP__MGR_LIST_GET,    /* obj, num: index; reply: the value */
  MP__MGR_LIST_LEN,    /* obj; reply: u64 */
  MP__MGR_SHUTDOWN,    /* the server answers, then ends */
  MP__MGR_LANE,        /* reply: u64, the index of the lane this connection
                        * may use (src/manager_lane.c), or MP__LANE_NONE */
  MP__MGR_DICT_CONTAINS,   /* obj, key; reply: u64, 1 or 0 */
  MP__MGR_DICT_KEYS,       /* obj; reply: KEYS (below) */
  MP__MGR_DICT_ITEMS,      /* obj; reply: ITEMS (below) */
  MP__MGR_DICT_POP,        /* obj, key; reply: the value, now removed */
  MP__MGR_DICT_SETDEFAULT, /* obj, num: 1 to have the value back, or 0; key,
                            * value: the default; reply: the value or nothing */
  MP__MGR_DICT_CLEAR,      /* obj */
  MP__MGR_DICT_UPDATE,     /* obj: the dict to change, num: the dict to copy */
  MP__MGR_LIST_SET,        /* obj, num: index, value */
  MP__MGR_LIST_INSERT,     /* obj, num: index (past the end: appends), value */
  MP__MGR_LIST_POP,        /* obj, num: index or MP__MGR_LIST_LAST; reply: the value */
  MP__MGR_LIST_DELETE,     /* obj, num: index */
  MP__MGR_LIST_EXTEND,     /* obj: the list to grow, num: the list to copy */
  MP__MGR_OP_MAX = MP__MGR_LIST_EXTEND
};

/* LIST_POP's index for the last item (mp_list_pop's MP_LIST_LAST). */
#define MP__MGR_LIST_LAST UINT64_MAX

/* Replies that carry many entries, all taken in one step in the server:
 *   KEYS:  u64 count, then count times: u32 keylen, the key's bytes.
 *   ITEMS: u64 count, then count times: u32 keylen, the key's bytes,
 *          u64 vlen, the value's bytes.
 * In the dict's insertion order; a reply over MP_MAX_MESSAGE is refused
 * with MP_ETOOBIG. Like any reply, one over a lane's area comes as a
 * REPLY frame on the socket. The client checks every length (a key over
 * MP_MANAGER_KEY_MAX, a NUL inside one, a count the bytes cannot hold,
 * bytes left over: MP_EPROTO). */

typedef struct mp__mgr_request {
  int op;
  uint64_t obj;
  uint64_t num;
  const char *key;      /* not NUL-terminated when decoded: keylen bytes */
  size_t keylen;
  const void *value;
  size_t vlen;
} mp__mgr_request;

/* Writes one request; the value goes straight from the caller's memory. */
int mp__mgr_write_request(mp__handle h, uint64_t seq, const mp__mgr_request *rq);
/* MP_OK, or MP_EPROTO for an unknown op, a short or overlong payload, a
 * key over MP_MANAGER_KEY_MAX or with a NUL inside, or a field the op does
 * not use. out points into p. */
int mp__mgr_decode_request(int op, const uint8_t *p, size_t len, mp__mgr_request *out);
/* Writes one reply: status and a payload of up to two parts. */
int mp__mgr_write_reply(mp__handle h, uint64_t seq, int status, const void *p1, size_t n1, const void *p2,
                        size_t n2);
/* The status a reply header carries, or MP_EPROTO if it is none of ours. */
int mp__mgr_reply_status(uint16_t flags);

/* A delta travels as its two's complement in a u64. */
static inline uint64_t mp__mgr_from_i64(int64_t v) { return (uint64_t)v; }
static inline int64_t mp__mgr_to_i64(uint64_t u) {
  return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

#endif
