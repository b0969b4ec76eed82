/* Starting a worker of either kind (a Process, or a pool worker) by
 * either method: the bootstrap message, the handles it needs, the spawn. */
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "wire.h"

/* What the fork child runs: the same decode-and-run path a spawned child
 * takes, from the bootstrap bytes the parent prepared before fork. */
typedef struct fork_boot {
  const uint8_t *meta;
  size_t meta_len;
  const void *arg;
  size_t arg_len;
} fork_boot;

static int fork_entry(void *ud) {
  const fork_boot *fb = ud;
  mp__boot boot;
  mp__enter_worker();
  if (mp__boot_decode(fb->meta, fb->meta_len, fb->arg, fb->arg_len, &boot) != MP_OK)
    return MP__EXIT_BAD_BOOT;
  int code = mp__worker_run(&boot);
  mp__boot_release(&boot);
  return code;
}

/* Lists every handle the child needs: the result pipe or the arena's
 * handles, the boot pipe (spawn only), then each object's handles; boot
 * gets their child values. */
typedef struct handoff {
  mp__handle *handles;   /* room for 1 + channel + MP__OBJECT_MAX_HANDLES per object */
  size_t n;
  mp__buf blobs;
  mp__handle few[2 + 3 * MP__OBJECT_MAX_HANDLES]; /* the common case, no malloc */
  uint8_t few_blobs[64];
} handoff;

/* Everything the parent writes between two forks is a copy-on-write fault
 * after the second one, so a start keeps its scratch small and on the stack. */
static int handoff_init(handoff *h, size_t nobjects) {
  size_t need = 2 + (nobjects + 1) * MP__OBJECT_MAX_HANDLES;
  h->n = 0;
  h->handles = need <= sizeof h->few / sizeof h->few[0] ? h->few : malloc(need * sizeof *h->handles);
  mp__buf_init_on(&h->blobs, h->few_blobs, sizeof h->few_blobs);
  return h->handles ? MP_OK : mp__set_error(MP_ENOMEM, "mp_process_start: out of memory");
}

static void handoff_release(handoff *h) {
  if (h->handles != h->few) free(h->handles);
  mp__buf_release(&h->blobs);
}

static int plan_handoff(handoff *h, mp__boot *boot, const mp__launch_spec *spec, mp__handle boot_rd,
                        size_t *boot_index) {
  size_t nobj = spec->nobjects;
  int method = spec->method;
  size_t *blob_off = NULL;
  h->n = 0;
  if (spec->result_wr != MP__NO_HANDLE) h->handles[h->n++] = spec->result_wr;
  for (size_t k = 0; k < spec->nchannel; k++) h->handles[h->n++] = spec->channel[k];
  if (boot_rd != MP__NO_HANDLE) {
    *boot_index = h->n;
    h->handles[h->n++] = boot_rd;
  }
  if (nobj && (!(boot->objects = calloc(nobj, sizeof *boot->objects)) ||
               !(blob_off = calloc(nobj, sizeof *blob_off))))
    goto nomem;
  boot->nobjects = nobj;
  for (size_t i = 0; i < nobj; i++) {
    mp_object *o = spec->objects[i];
    mp__boot_object *bo = &boot->objects[i];
    size_t nh = 0;
    size_t before = h->blobs.len;
    int rc = o->ops->export_to(o, &h->handles[h->n], &nh, &h->blobs);
    if (rc != MP_OK) {
      free(blob_off);
      return rc;
    }
    bo->kind = (uint32_t)o->ops->kind;
    bo->nhandles = (uint32_t)nh;
    for (size_t k = 0; k < nh; k++) bo->handles[k] = mp__child_handle(method, h->handles, h->n + k);
    blob_off[i] = before;
    bo->bloblen = h->blobs.len - before;
    h->n += nh;
  }
  if (h->blobs.failed) goto nomem;
  /* Blobs point into one buffer, fixed only once it stops growing. */
  for (size_t i = 0; i < nobj; i++) boot->objects[i].blob = h->blobs.data + blob_off[i];
  free(blob_off);
  size_t at = 0;
  boot->result = MP__NO_HANDLE;
  if (spec->result_wr != MP__NO_HANDLE) boot->result = mp__child_handle(method, h->handles, at++);
  boot->nchannel = (uint32_t)spec->nchannel;
  for (size_t k = 0; k < spec->nchannel; k++) boot->channel[k] = mp__child_handle(method, h->handles, at++);
  boot->channel_blob = spec->channel_blob;
  boot->channel_bloblen = spec->channel_bloblen;
  return MP_OK;
nomem:
  free(blob_off);
  return mp__set_error(MP_ENOMEM, "mp_process_start: out of memory");
}

int mp__launch(const mp__launch_spec *spec, mp__child **child) {
  mp__handle boot_rd = MP__NO_HANDLE, boot_wr = MP__NO_HANDLE;
  int method = spec->method;
  handoff h;
  mp__boot boot;
  mp__buf meta;
  uint8_t meta_room[256];
  size_t boot_index = 0;
  memset(&boot, 0, sizeof boot);
  mp__buf_init_on(&meta, meta_room, sizeof meta_room);
  int rc = handoff_init(&h, spec->nobjects);
  if (rc == MP_OK && method == MP_START_SPAWN) rc = mp__pipe(&boot_rd, &boot_wr);
  if (rc == MP_OK) rc = plan_handoff(&h, &boot, spec, boot_rd, &boot_index);
  if (rc != MP_OK) goto done;
  boot.role = spec->role;
  boot.worker_id = spec->worker_id;
  boot.max_tasks = spec->max_tasks;
  const char *task = spec->task ? spec->task : "";
  memcpy(boot.task, task, strlen(task) + 1); /* checked against its room; memcpy: MSVC deprecates strcpy */
  boot.arg_len = spec->arg_len;
  mp__buf_put_u32(&meta, 0); /* room for meta_len, filled below */
  mp__boot_encode(&boot, &meta);
  if (meta.failed) {
    rc = mp__set_error(MP_ENOMEM, "starting a worker: out of memory");
    goto done;
  }
  mp__store_u32(meta.data, (uint32_t)(meta.len - 4));

  char token[MP__TOKEN_MAX];
  mp__token_format(mp__child_handle(method, h.handles, boot_index), token);
  fork_boot fb = {meta.data + 4, meta.len - 4, spec->arg, spec->arg_len};
  mp__spawn_options so = {method, h.handles, h.n, fork_entry, &fb, token};
  rc = mp__spawn(child, &so);
  if (rc != MP_OK) goto done;
  mp__handle_close(boot_rd);
  boot_rd = MP__NO_HANDLE;
  if (method == MP_START_SPAWN) {
    /* If the child died before reading, its exit tells how; the start
     * itself succeeded. */
    (void)mp__frame_write(boot_wr, MP__FRAME_BOOT, 0, meta.data, meta.len, spec->arg, spec->arg_len);
  }
done:
  mp__handle_close(boot_rd);
  mp__handle_close(boot_wr);
  mp__buf_release(&meta);
  handoff_release(&h);
  free(boot.objects);
  return rc;
}
