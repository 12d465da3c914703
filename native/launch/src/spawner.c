/*
 * pegasus-ts-spawner: a small process that launches tasks for a Node process.
 *
 * Why a separate process: wait4's ru_maxrss of a child counts the memory high-water mark of the
 * process it was spawned from (Linux keeps it across exec), so a task spawned straight from a
 * 100 MB Node process reports >= 100 MB. Tasks spawned from this small C process report their
 * own memory. It is also faster than Node's child_process (posix_spawn, no JS per task).
 *
 * fd 3 is a stream socket to the Node side (launch.node). Requests and results are binary frames
 * (wire.h, README.md). Tasks are launched with posix_spawn (fork+exec only when a request needs
 * memory limits or CPU affinity), each in its own process group, and reaped with wait4 through a
 * signalfd. When fd 3 reaches EOF (the Node process closed it or died) every running task's
 * process group is killed and the spawner exits: no orphan tasks.
 *
 * A launch may name a predecessor (`after`): it waits here, keyed by that id, and starts in the
 * loop iteration that reaps the predecessor (or sees its launch fail), before the predecessor's
 * result is even written, so consecutive tasks of a lane need no round trip through Node.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

extern char **environ;

#define CHAN 3

/* ---------------------------------------------------------------- growable byte buffer */

typedef struct {
  char *p;
  size_t len, cap;
} buf_t;

static void die(const char *what) {
  fprintf(stderr, "pegasus-ts-spawner: %s: %s\n", what, strerror(errno));
  _exit(70);
}

static void buf_reserve(buf_t *b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap : 65536;
  while (cap < b->len + extra) cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) die("out of memory");
  b->p = p;
  b->cap = cap;
}

static void buf_put(buf_t *b, const void *data, size_t n) {
  buf_reserve(b, n);
  memcpy(b->p + b->len, data, n);
  b->len += n;
}

static void put_u32(buf_t *b, uint32_t v) { buf_put(b, &v, 4); }
static void put_i32(buf_t *b, int32_t v) { buf_put(b, &v, 4); }
static void put_f64(buf_t *b, double v) { buf_put(b, &v, 8); }

/* ---------------------------------------------------------------- request cursor */

typedef struct {
  char *p, *end;
  int bad;
} cur_t;

static uint32_t get_u32(cur_t *c) {
  uint32_t v = 0;
  if (c->end - c->p < 4) {
    c->bad = 1;
    return 0;
  }
  memcpy(&v, c->p, 4);
  c->p += 4;
  return v;
}

static double get_f64(cur_t *c) {
  double v = 0;
  if (c->end - c->p < 8) {
    c->bad = 1;
    return 0;
  }
  memcpy(&v, c->p, 8);
  c->p += 8;
  return v;
}

/* Returns a pointer into the request buffer (NUL-terminated by the format). */
static char *get_str(cur_t *c) {
  uint32_t n = get_u32(c);
  if (c->bad || (size_t)(c->end - c->p) < (size_t)n + 1 || c->p[n] != '\0') {
    c->bad = 1;
    return NULL;
  }
  char *s = c->p;
  c->p += n + 1;
  return s;
}

/* ---------------------------------------------------------------- state */

typedef struct {
  int fd;
  uint32_t max;
  uint32_t slot;
} cap_t;

/* Where a running task is with its time limit. */
enum {
  PHASE_UNTIMED,    /* no deadline */
  PHASE_TERM_AT,    /* SIGTERM to its group at the deadline */
  PHASE_KILL_AT,    /* TERM sent; SIGKILL at the deadline (the grace period's end) */
  PHASE_KILL_SENT,  /* nothing more to do but reap it */
};

/* A task in the deadline bookkeeping (counted in ntimed). */
#define HAS_DEADLINE(t) ((t)->phase == PHASE_TERM_AT || (t)->phase == PHASE_KILL_AT)

typedef struct {
  uint32_t id;
  pid_t pid;
  int phase; /* PHASE_* */
  int timed_out;
  double deadline, grace;
  struct timespec start;
  int ncap;
  cap_t caps[2 + WIRE_MAX_EXTRA];
  char *exec_path;
} task_t;

static task_t *tasks;
static size_t ntasks, tasks_cap;
static size_t ntimed;

/* a launch waiting for its predecessor `after` to end; frame = the request after id and after */
typedef struct {
  uint32_t id, after;
  char *frame;
  size_t len;
} succ_t;

static succ_t *succs; /* in arrival order */
static size_t nsuccs, succs_cap;
static uint32_t *ended_ids; /* worklist of start_successors() */
static size_t ended_cap;

static buf_t inbuf, outbuf;
static char **base_env;
static char *spool_dir;
static int devnull = -1;
static posix_spawnattr_t spawn_attr;

/* per-launch scratch */
static char **envp_scratch;
static size_t envp_cap;

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- holding results
 * SETUP's holdUs: the result of a task whose chained successor has started (its lane is still
 * busy) may stay buffered for up to holdUs, so that a run of short back-to-back tasks costs the
 * Node side one wake-up per burst instead of one per task. Any other result (a task that leaves
 * its lane idle, a launch failure, a cancellation) goes at once and takes the held ones along. */
#define HOLD_MAX_BYTES 65536u
static double hold_s;      /* 0: never hold */
static double held_until;  /* 0: nothing held; else when the held results must go */
static int flush_now;      /* a result must go at once: flush until the buffer is empty */

static void result_ready(int may_hold) {
  if (!may_hold || hold_s <= 0) flush_now = 1;
  else if (held_until == 0) held_until = mono_now() + hold_s;
}

static int must_flush(double now) {
  return flush_now || held_until == 0 || outbuf.len >= HOLD_MAX_BYTES || now >= held_until;
}

/* ---------------------------------------------------------------- results */

static void put_result_head(size_t *frame_start, uint32_t id, pid_t pid, int raw, int err, uint32_t stage,
                            uint32_t flags, const struct timespec *start, const struct timespec *end) {
  *frame_start = outbuf.len;
  put_u32(&outbuf, 0); /* length, patched by end_frame */
  put_u32(&outbuf, WIRE_RES_RESULT);
  put_u32(&outbuf, id);
  put_i32(&outbuf, pid);
  put_i32(&outbuf, raw);
  put_i32(&outbuf, err);
  put_u32(&outbuf, stage);
  put_u32(&outbuf, flags);
  put_u32(&outbuf, (uint32_t)start->tv_sec);
  put_u32(&outbuf, (uint32_t)start->tv_nsec);
  put_u32(&outbuf, (uint32_t)end->tv_sec);
  put_u32(&outbuf, (uint32_t)end->tv_nsec);
}

static void put_usage(const struct rusage *ru) {
  double v[13];
  v[0] = (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6;
  v[1] = (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
  v[2] = (double)ru->ru_maxrss;
  v[3] = (double)ru->ru_minflt;
  v[4] = (double)ru->ru_majflt;
  v[5] = (double)ru->ru_nswap;
  v[6] = (double)ru->ru_inblock;
  v[7] = (double)ru->ru_oublock;
  v[8] = (double)ru->ru_msgsnd;
  v[9] = (double)ru->ru_msgrcv;
  v[10] = (double)ru->ru_nsignals;
  v[11] = (double)ru->ru_nvcsw;
  v[12] = (double)ru->ru_nivcsw;
  buf_put(&outbuf, v, sizeof v);
}

static void put_str(const char *s) {
  uint32_t n = s ? (uint32_t)strlen(s) : 0;
  put_u32(&outbuf, n);
  if (n) buf_put(&outbuf, s, n);
  buf_put(&outbuf, "", 1);
}

static void end_frame(size_t frame_start) {
  uint32_t n = (uint32_t)(outbuf.len - frame_start);
  memcpy(outbuf.p + frame_start, &n, 4);
}

/* A launch that never ran: raw -1, errno and the stage that failed. */
static void report_failure(uint32_t id, int err, uint32_t stage, const char *exec_path) {
  struct timespec now;
  struct rusage ru;
  size_t fs;
  clock_gettime(CLOCK_REALTIME, &now);
  memset(&ru, 0, sizeof ru);
  put_result_head(&fs, id, 0, -1, err ? err : EINVAL, stage, 0, &now, &now);
  put_usage(&ru);
  put_str(exec_path);
  put_u32(&outbuf, 0);
  end_frame(fs);
  result_ready(0);
}

/* Capture files that an ended task left empty-able and nobody else holds, kept for the next
 * tasks: a task's capture then costs no memfd_create/close, only an fstat. */
#define CAP_POOL_MAX 64
static int cap_pool[CAP_POOL_MAX];
static int ncap_pool;

/* Append the tail (at most cap->max bytes) of a capture file, then close it, or keep it for reuse
 * when `reuse` (the task's process group is gone, so no background process can still write to it). */
static void put_capture(cap_t *cap, int reuse) {
  struct stat st;
  uint64_t size = 0;
  uint32_t n = 0;
  if (fstat(cap->fd, &st) == 0 && st.st_size > 0) size = (uint64_t)st.st_size;
  if (size > 0) n = size > cap->max ? cap->max : (uint32_t)size;
  put_u32(&outbuf, cap->slot);
  put_f64(&outbuf, (double)size);
  put_u32(&outbuf, size > n ? 1u : 0u);
  size_t len_at = outbuf.len;
  put_u32(&outbuf, n);
  if (n > 0) {
    buf_reserve(&outbuf, n);
    uint32_t got = 0;
    off_t off = (off_t)(size - n);
    while (got < n) {
      ssize_t r = pread(cap->fd, outbuf.p + outbuf.len + got, n - got, off + got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break; /* file shrank (truncated by the task): keep what we have */
      got += (uint32_t)r;
    }
    outbuf.len += got;
    memcpy(outbuf.p + len_at, &got, 4);
  }
  if (reuse && ncap_pool < CAP_POOL_MAX &&
      (size == 0 || (ftruncate(cap->fd, 0) == 0 && lseek(cap->fd, 0, SEEK_SET) == 0)))
    cap_pool[ncap_pool++] = cap->fd;
  else
    close(cap->fd);
  cap->fd = -1;
}

static void close_caps(cap_t *caps, int n) {
  for (int i = 0; i < n; i++)
    if (caps[i].fd >= 0) close(caps[i].fd);
}

/* A launch cancelled while it waited for its predecessor: never started. */
static void report_cancelled(uint32_t id) {
  struct timespec now;
  struct rusage ru;
  size_t fs;
  clock_gettime(CLOCK_REALTIME, &now);
  memset(&ru, 0, sizeof ru);
  put_result_head(&fs, id, 0, -1, ECANCELED, WIRE_STAGE_NONE, WIRE_RESULT_CANCELLED, &now, &now);
  put_usage(&ru);
  put_str(NULL);
  put_u32(&outbuf, 0);
  end_frame(fs);
  result_ready(0);
}

static void finish_task(size_t idx, int status, const struct rusage *ru, const struct timespec *end) {
  task_t *t = &tasks[idx];
  size_t fs;
  put_result_head(&fs, t->id, t->pid, status, 0, WIRE_STAGE_NONE, t->timed_out ? WIRE_RESULT_TIMED_OUT : 0,
                  &t->start, end);
  put_usage(ru);
  put_str(t->exec_path);
  put_u32(&outbuf, (uint32_t)t->ncap);
  /* The task's own process group: empty once it is reaped, unless something it started lives on. */
  int group_gone = t->pid > 0 && kill(-t->pid, 0) < 0 && errno == ESRCH;
  for (int i = 0; i < t->ncap; i++) put_capture(&t->caps[i], group_gone);
  end_frame(fs);
  free(t->exec_path);
  if (HAS_DEADLINE(t)) ntimed--;
  tasks[idx] = tasks[--ntasks];
}

static task_t *find_task(uint32_t id) {
  for (size_t i = 0; i < ntasks; i++)
    if (tasks[i].id == id) return &tasks[i];
  return NULL;
}

/* index of the waiting launch `id`, or -1 */
static long find_succ(uint32_t id) {
  for (size_t i = 0; i < nsuccs; i++)
    if (succs[i].id == id) return (long)i;
  return -1;
}

static void remove_succ(size_t i) {
  free(succs[i].frame);
  memmove(&succs[i], &succs[i + 1], (nsuccs - i - 1) * sizeof(succ_t));
  nsuccs--;
}

/* ---------------------------------------------------------------- launching */

static int key_eq(const char *a, const char *b) {
  /* compare "K=..." keys */
  while (*a && *a != '=' && *a == *b) {
    a++;
    b++;
  }
  return (*a == '=' || *a == '\0') && (*b == '=' || *b == '\0');
}

static void envp_push(size_t *n, char *s) {
  if (*n + 1 >= envp_cap) {
    envp_cap = envp_cap ? envp_cap * 2 : 256;
    envp_scratch = realloc(envp_scratch, envp_cap * sizeof(char *));
    if (!envp_scratch) die("out of memory");
  }
  envp_scratch[(*n)++] = s;
  envp_scratch[*n] = NULL;
}

static char **build_env(int clear, char **adds, size_t nadds) {
  if (nadds == 0 && !clear) return base_env;
  size_t n = 0;
  envp_push(&n, NULL);
  n = 0;
  if (!clear) {
    for (char **e = base_env; *e; e++) {
      int overridden = 0;
      for (size_t i = 0; i < nadds && !overridden; i++) overridden = key_eq(*e, adds[i]);
      if (!overridden) envp_push(&n, *e);
    }
  }
  for (size_t i = 0; i < nadds; i++) {
    int later = 0;
    for (size_t j = i + 1; j < nadds && !later; j++) later = key_eq(adds[i], adds[j]);
    if (!later) envp_push(&n, adds[i]);
  }
  return envp_scratch;
}

static const char *env_get(char **envp, const char *key) {
  size_t kl = strlen(key);
  for (char **e = envp; *e; e++)
    if (strncmp(*e, key, kl) == 0 && (*e)[kl] == '=') return *e + kl + 1;
  return NULL;
}

static int is_executable_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/*
 * PMC's resolution: a name with a '/' is used as is (relative to the task's cwd); otherwise
 * ./name when it is an executable file in the cwd, else the first executable PATH entry, else the
 * name unchanged (the exec then fails with ENOENT). Returns a malloc'd path.
 */
static char *resolve_exec(const char *name, const char *cwd, char **envp) {
  char buf[4096];
  if (strchr(name, '/')) {
    if (name[0] != '/' && cwd[0]) {
      snprintf(buf, sizeof buf, "%s/%s", cwd, name);
      return strdup(buf);
    }
    return strdup(name);
  }
  if (name[0] == '\0') return strdup(name);
  snprintf(buf, sizeof buf, "%s/%s", cwd[0] ? cwd : ".", name);
  if (is_executable_file(buf)) return strdup(buf);
  const char *path = env_get(envp, "PATH");
  if (!path) path = env_get(base_env, "PATH");
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  while (*path) {
    const char *colon = strchr(path, ':');
    size_t dl = colon ? (size_t)(colon - path) : strlen(path);
    if (dl == 0)
      snprintf(buf, sizeof buf, "%s/%s", cwd[0] ? cwd : ".", name);
    else if (path[0] == '/' || !cwd[0])
      snprintf(buf, sizeof buf, "%.*s/%s", (int)dl, path, name);
    else
      snprintf(buf, sizeof buf, "%s/%.*s/%s", cwd, (int)dl, path, name);
    if (is_executable_file(buf)) return strdup(buf);
    if (!colon) break;
    path = colon + 1;
  }
  return strdup(name);
}

static int make_capture(void) {
  if (ncap_pool > 0) return cap_pool[--ncap_pool];
  if (spool_dir) {
    int fd = open(spool_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
  }
  return memfd_create("pegasus-ts-capture", MFD_CLOEXEC);
}

static int open_rel(const char *cwd, const char *path, int flags) {
  if (path[0] == '/' || !cwd[0]) return open(path, flags | O_CLOEXEC, 0666);
  char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s", cwd, path);
  return open(buf, flags | O_CLOEXEC, 0666);
}

typedef struct {
  uint32_t kind, max;
  char *path;
} stdio_req_t;

/* Report from a forked child to the parent through the CLOEXEC pipe, then exit. */
static void child_fail(int pfd, uint32_t stage) {
  int32_t msg[2] = {(int32_t)stage, errno};
  ssize_t r = write(pfd, msg, sizeof msg);
  (void)r;
  _exit(127);
}

__attribute__((noreturn)) static void bad_request(void) {
  fprintf(stderr, "pegasus-ts-spawner: malformed request\n");
  _exit(65);
}

static int limit(int res, rlim_t v) {
  struct rlimit rl;
  if (getrlimit(res, &rl) != 0) return -1;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < v) v = rl.rlim_max;
  rl.rlim_cur = rl.rlim_max = v;
  return setrlimit(res, &rl);
}

/* A launch request, parsed: its strings and arrays point into the request and the caller's frame. */
typedef struct {
  uint32_t id, flags, mem_mb, ncpus, nenv, nextra;
  double timeout, grace;
  const uint32_t *cpus;
  char **argv;
  const char *cwd;
  char **adds; /* nenv environment additions, room for nextra more */
  stdio_req_t sio[3];
  uint32_t xfd[WIRE_MAX_EXTRA], xmax[WIRE_MAX_EXTRA];
  char *xvar[WIRE_MAX_EXTRA];
} launch_req_t;

/* What a task starts with: stdio fds (owned ones closed after the spawn) and captures. */
typedef struct {
  int fds[3];
  int owned[3];
  cap_t caps[2 + WIRE_MAX_EXTRA];
  int ncap;
  int first_extra_cap;
  char xenv[WIRE_MAX_EXTRA][300]; /* VAR=fd for the extra captures */
} task_io_t;

static void close_owned_stdio(task_io_t *io) {
  for (int i = 0; i < 3; i++)
    if (io->owned[i]) close(io->fds[i]);
}

/* Gives up on a launch whose stdio or captures could not be set up: closes what was opened
 * and writes the launch failure. Returns 0 (not running). */
static int io_failed(const launch_req_t *r, task_io_t *io, int err, uint32_t stage) {
  close_owned_stdio(io);
  close_caps(io->caps, io->ncap);
  report_failure(r->id, err, stage, NULL);
  return 0;
}

/* Opens the task's stdio (here, so a failure is told apart from an exec failure: kickstart
 * says 126) and its captures. Returns 1, or 0 with the failure written. */
static int open_task_io(launch_req_t *r, task_io_t *io) {
  for (int i = 0; i < 3; i++) {
    io->fds[i] = -1;
    io->owned[i] = 0;
  }
  io->ncap = 0;
  for (int i = 0; i < 3; i++) {
    switch (r->sio[i].kind) {
    case WIRE_STDIO_INHERIT:
      break;
    case WIRE_STDIO_NULL:
      io->fds[i] = devnull;
      break;
    case WIRE_STDIO_FILE:
    case WIRE_STDIO_APPEND: {
      int fl = i == 0 ? O_RDONLY
                      : O_WRONLY | O_CREAT | (r->sio[i].kind == WIRE_STDIO_APPEND ? O_APPEND : O_TRUNC);
      io->fds[i] = open_rel(r->cwd, r->sio[i].path, fl);
      if (io->fds[i] < 0) return io_failed(r, io, errno, WIRE_STAGE_STDIO);
      io->owned[i] = 1;
      break;
    }
    case WIRE_STDIO_CAPTURE:
      if (i == 0) bad_request();
      io->fds[i] = make_capture();
      if (io->fds[i] < 0) return io_failed(r, io, errno, WIRE_STAGE_CAPTURE);
      io->caps[io->ncap].fd = io->fds[i];
      io->caps[io->ncap].max = r->sio[i].max;
      io->caps[io->ncap].slot = i == 1 ? WIRE_SLOT_STDOUT : WIRE_SLOT_STDERR;
      io->ncap++;
      break;
    default:
      bad_request();
    }
  }
  /* Extra captures: their own fds sit above every target fd, so no dup2 clobbers a source. */
  int target_max = 2;
  for (uint32_t i = 0; i < r->nextra; i++)
    if ((int)r->xfd[i] > target_max) target_max = (int)r->xfd[i];
  for (uint32_t i = 0; i < r->nextra; i++) {
    int fd = make_capture();
    int hi = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, target_max + 1) : -1;
    int e = errno;
    if (fd >= 0) close(fd);
    if (hi < 0) return io_failed(r, io, e, WIRE_STAGE_CAPTURE);
    io->caps[io->ncap].fd = hi;
    io->caps[io->ncap].max = r->xmax[i];
    io->caps[io->ncap].slot = 2 + i;
    io->ncap++;
    snprintf(io->xenv[i], sizeof io->xenv[i], "%s=%u", r->xvar[i], r->xfd[i]);
    r->adds[r->nenv + i] = io->xenv[i];
  }
  io->first_extra_cap = io->ncap - (int)r->nextra;
  return 1;
}

/* posix_spawn (no limits, no affinity): the fast path. Returns 0 or errno (with *stage). */
static int spawn_direct(const launch_req_t *r, const task_io_t *io, const char *exec_path, char **envp,
                        pid_t *pid, struct timespec *start, uint32_t *stage) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (r->cwd[0]) posix_spawn_file_actions_addchdir_np(&fa, r->cwd);
  for (int i = 0; i < 3; i++)
    if (io->fds[i] >= 0) posix_spawn_file_actions_adddup2(&fa, io->fds[i], i);
  for (uint32_t i = 0; i < r->nextra; i++)
    posix_spawn_file_actions_adddup2(&fa, io->caps[io->first_extra_cap + (int)i].fd, (int)r->xfd[i]);
  clock_gettime(CLOCK_REALTIME, start);
  int err = posix_spawn(pid, exec_path, &fa, &spawn_attr, r->argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  if (err) {
    struct stat st;
    *stage = WIRE_STAGE_EXEC;
    if (r->cwd[0] && (stat(r->cwd, &st) != 0 || !S_ISDIR(st.st_mode))) {
      *stage = WIRE_STAGE_CWD;
      if (stat(r->cwd, &st) == 0) err = ENOTDIR;
    }
  }
  return err;
}

/* In the forked child: default signals, own process group, cwd, stdio, limits, CPU binding,
 * exec. A failure goes back through pfd (CLOEXEC: closed by a successful exec). */
__attribute__((noreturn)) static void exec_child(const launch_req_t *r, const task_io_t *io,
                                                 const char *exec_path, char **envp, int pfd) {
  sigset_t none;
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  setpgid(0, 0);
  if (r->cwd[0] && chdir(r->cwd) != 0) child_fail(pfd, WIRE_STAGE_CWD);
  for (int i = 0; i < 3; i++)
    if (io->fds[i] >= 0 && dup2(io->fds[i], i) < 0) child_fail(pfd, WIRE_STAGE_STDIO);
  for (uint32_t i = 0; i < r->nextra; i++)
    if (dup2(io->caps[io->first_extra_cap + (int)i].fd, (int)r->xfd[i]) < 0) child_fail(pfd, WIRE_STAGE_STDIO);
  if (r->mem_mb > 0) {
    rlim_t v = (rlim_t)r->mem_mb * 1024 * 1024;
    if (limit(RLIMIT_AS, v) != 0 || limit(RLIMIT_DATA, v) != 0 || limit(RLIMIT_RSS, v) != 0 ||
        limit(RLIMIT_STACK, v) != 0)
      child_fail(pfd, WIRE_STAGE_LIMITS);
  }
  if (r->ncpus > 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (uint32_t i = 0; i < r->ncpus; i++)
      if (r->cpus[i] < CPU_SETSIZE) CPU_SET(r->cpus[i], &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) child_fail(pfd, WIRE_STAGE_LIMITS);
  }
  execve(exec_path, r->argv, envp);
  child_fail(pfd, WIRE_STAGE_EXEC);
  _exit(127); /* not reached: child_fail exits */
}

/* fork + exec_child (memory limits or CPU binding need code between fork and exec); the child
 * reports a failure through a CLOEXEC pipe. Returns 0 or errno (with *stage). */
static int spawn_forked(const launch_req_t *r, const task_io_t *io, const char *exec_path, char **envp,
                        pid_t *pid, struct timespec *start, uint32_t *stage) {
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0) {
    *stage = WIRE_STAGE_SPAWN;
    return errno;
  }
  int err = 0;
  clock_gettime(CLOCK_REALTIME, start);
  *pid = fork();
  if (*pid == 0) exec_child(r, io, exec_path, envp, pfd[1]);
  close(pfd[1]);
  if (*pid < 0) {
    err = errno;
    *stage = WIRE_STAGE_SPAWN;
  } else {
    int32_t msg[2];
    ssize_t n;
    do n = read(pfd[0], msg, sizeof msg);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof msg) {
      int st;
      *stage = (uint32_t)msg[0];
      err = msg[1] ? msg[1] : EINVAL;
      while (waitpid(*pid, &st, 0) < 0 && errno == EINTR) {
      }
      *pid = -1;
    } else {
      setpgid(*pid, *pid); /* also from the parent: no race with an early kill(-pid) */
    }
  }
  close(pfd[0]);
  return err;
}

/* A task started: into the table of running tasks (reaped by reap(), timed by check_deadlines). */
static void track_task(const launch_req_t *r, const task_io_t *io, pid_t pid, const struct timespec *start,
                       char *exec_path) {
  if (ntasks == tasks_cap) {
    tasks_cap = tasks_cap ? tasks_cap * 2 : 64;
    tasks = realloc(tasks, tasks_cap * sizeof(task_t));
    if (!tasks) die("out of memory");
  }
  task_t *t = &tasks[ntasks++];
  t->id = r->id;
  t->pid = pid;
  t->timed_out = 0;
  t->start = *start;
  t->grace = r->grace > 0 ? r->grace : 0;
  t->exec_path = exec_path;
  t->ncap = io->ncap;
  memcpy(t->caps, io->caps, sizeof(cap_t) * (size_t)io->ncap);
  if (r->timeout > 0) {
    t->phase = PHASE_TERM_AT;
    t->deadline = mono_now() + r->timeout;
    ntimed++;
  } else {
    t->phase = PHASE_UNTIMED;
  }
}

/* Starts a parsed request: 1 = running, 0 = launch failure (its result is written). */
static int launch(launch_req_t *r) {
  task_io_t io;
  if (!open_task_io(r, &io)) return 0;
  char **envp = build_env(r->flags & WIRE_LAUNCH_CLEAR_ENV, r->adds, r->nenv + r->nextra);
  char *exec_path = resolve_exec(r->argv[0], r->cwd, envp);
  struct timespec start;
  pid_t pid = -1;
  uint32_t stage = WIRE_STAGE_NONE;
  int err = r->mem_mb == 0 && r->ncpus == 0 ? spawn_direct(r, &io, exec_path, envp, &pid, &start, &stage)
                                            : spawn_forked(r, &io, exec_path, envp, &pid, &start, &stage);
  close_owned_stdio(&io);
  if (err) {
    close_caps(io.caps, io.ncap);
    report_failure(r->id, err, stage, exec_path);
    free(exec_path);
    return 0;
  }
  track_task(r, &io, pid, &start, exec_path);
  return 1;
}

/* Launches the request at c (after its id and after fields): parses it (arrays sized by the
 * request live in this frame), then launch(). 1 = running, 0 = launch failure (its result is
 * written). */
static int start_launch(cur_t *c, uint32_t id) {
  launch_req_t r;
  r.id = id;
  r.flags = get_u32(c);
  r.timeout = get_f64(c);
  r.grace = get_f64(c);
  r.mem_mb = get_u32(c);
  r.ncpus = get_u32(c);
  if (c->bad || r.ncpus > 4096) bad_request();
  uint32_t cpus[r.ncpus ? r.ncpus : 1];
  for (uint32_t i = 0; i < r.ncpus; i++) cpus[i] = get_u32(c);
  r.cpus = cpus;
  uint32_t argc = get_u32(c);
  if (c->bad || argc == 0 || argc > (uint32_t)(c->end - c->p)) bad_request();
  char *argv[argc + 1];
  for (uint32_t i = 0; i < argc; i++) argv[i] = get_str(c);
  argv[argc] = NULL;
  r.argv = argv;
  r.cwd = get_str(c);
  r.nenv = get_u32(c);
  if (c->bad || r.nenv > (uint32_t)(c->end - c->p)) bad_request();
  char *adds[r.nenv + WIRE_MAX_EXTRA + 1];
  for (uint32_t i = 0; i < r.nenv; i++) adds[i] = get_str(c);
  r.adds = adds;
  for (int i = 0; i < 3; i++) {
    r.sio[i].kind = get_u32(c);
    r.sio[i].max = get_u32(c);
    r.sio[i].path = get_str(c);
  }
  r.nextra = get_u32(c);
  if (c->bad) bad_request();
  if (r.nextra > WIRE_MAX_EXTRA) {
    report_failure(id, E2BIG, WIRE_STAGE_REQUEST, NULL);
    return 0;
  }
  for (uint32_t i = 0; i < r.nextra; i++) {
    r.xfd[i] = get_u32(c);
    r.xmax[i] = get_u32(c);
    r.xvar[i] = get_str(c);
  }
  if (c->bad) bad_request();
  for (uint32_t i = 0; i < r.nextra; i++) {
    if (r.xfd[i] < 3 || r.xfd[i] > 1023) {
      report_failure(id, EBADF, WIRE_STAGE_REQUEST, NULL);
      return 0;
    }
  }
  return launch(&r);
}

/*
 * Task `id` ended (reaped, launch failure or cancelled): start the launches waiting for it, in
 * arrival order. A successor whose own launch fails ends too, so its successors start as well
 * (a worklist, not recursion: a long chain of failures must not grow the stack). Returns how
 * many started.
 */
static int start_successors(uint32_t id) {
  if (nsuccs == 0) return 0;
  int started = 0;
  size_t nended = 0;
  if (ended_cap == 0) {
    ended_cap = 16;
    ended_ids = malloc(ended_cap * sizeof(uint32_t));
    if (!ended_ids) die("out of memory");
  }
  ended_ids[nended++] = id;
  while (nended > 0) {
    uint32_t e = ended_ids[--nended];
    size_t i = 0;
    while (i < nsuccs) {
      if (succs[i].after != e) {
        i++;
        continue;
      }
      succ_t s = succs[i];
      memmove(&succs[i], &succs[i + 1], (nsuccs - i - 1) * sizeof(succ_t));
      nsuccs--;
      cur_t c = {s.frame, s.frame + s.len, 0};
      if (start_launch(&c, s.id)) {
        started++;
      } else {
        if (nended == ended_cap) {
          ended_cap *= 2;
          ended_ids = realloc(ended_ids, ended_cap * sizeof(uint32_t));
          if (!ended_ids) die("out of memory");
        }
        ended_ids[nended++] = s.id;
      }
      free(s.frame);
    }
  }
  return started;
}

static void parse_launch(cur_t *c) {
  uint32_t id = get_u32(c);
  uint32_t after = get_u32(c);
  if (c->bad) bad_request();
  if (after != 0 && after != id && (find_task(after) || find_succ(after) >= 0)) {
    if (nsuccs == succs_cap) {
      succs_cap = succs_cap ? succs_cap * 2 : 16;
      succs = realloc(succs, succs_cap * sizeof(succ_t));
      if (!succs) die("out of memory");
    }
    size_t len = (size_t)(c->end - c->p);
    char *frame = malloc(len ? len : 1);
    if (!frame) die("out of memory");
    memcpy(frame, c->p, len);
    succs[nsuccs++] = (succ_t){id, after, frame, len};
    return;
  }
  if (!start_launch(c, id)) start_successors(id);
}

static void parse_setup(cur_t *c) {
  uint32_t version = get_u32(c);
  if (c->bad || version != WIRE_VERSION) {
    fprintf(stderr, "pegasus-ts-spawner: wire version %u, expected %u (rebuild: node native/launch/build.mjs)\n",
            version, WIRE_VERSION);
    _exit(65);
  }
  char *spool = get_str(c);
  uint32_t hold_us = get_u32(c);
  uint32_t flags = get_u32(c);
  uint32_t n = get_u32(c);
  if (c->bad || n > (uint32_t)(c->end - c->p)) bad_request();
  free(spool_dir);
  spool_dir = spool[0] ? strdup(spool) : NULL;
  hold_s = (double)hold_us / 1e6;
  if (flags & 1u) {
    char **env = calloc((size_t)n + 1, sizeof(char *));
    if (!env) die("out of memory");
    for (uint32_t i = 0; i < n; i++) {
      char *s = get_str(c);
      if (c->bad) bad_request();
      env[i] = strdup(s);
    }
    base_env = env; /* the previous one is leaked on purpose: setup is sent once per session */
  }
}

static void parse_signal(cur_t *c) {
  uint32_t id = get_u32(c);
  int32_t sig = (int32_t)get_u32(c);
  if (c->bad) {
    fprintf(stderr, "pegasus-ts-spawner: malformed signal request\n");
    _exit(65);
  }
  task_t *t = find_task(id);
  if (t) {
    kill(-t->pid, sig);
    return;
  }
  long w = find_succ(id);
  if (w >= 0) { /* still waiting for its predecessor: cancel it, it never starts */
    remove_succ((size_t)w);
    report_cancelled(id);
    start_successors(id);
  }
}

/* Parse every complete frame in inbuf. */
static void handle_requests(void) {
  size_t off = 0;
  while (inbuf.len - off >= 8) {
    uint32_t len, type;
    memcpy(&len, inbuf.p + off, 4);
    memcpy(&type, inbuf.p + off + 4, 4);
    if (len < 8 || len > WIRE_MAX_FRAME) {
      fprintf(stderr, "pegasus-ts-spawner: bad frame length %u\n", len);
      _exit(65);
    }
    if (inbuf.len - off < len) break;
    cur_t c = {inbuf.p + off + 8, inbuf.p + off + len, 0};
    switch (type) {
    case WIRE_REQ_LAUNCH:
      parse_launch(&c);
      break;
    case WIRE_REQ_SIGNAL:
      parse_signal(&c);
      break;
    case WIRE_REQ_SETUP:
      parse_setup(&c);
      break;
    default:
      fprintf(stderr, "pegasus-ts-spawner: unknown request type %u\n", type);
      _exit(65);
    }
    off += len;
  }
  if (off) {
    memmove(inbuf.p, inbuf.p + off, inbuf.len - off);
    inbuf.len -= off;
  }
}

/* ---------------------------------------------------------------- main loop */

static int flush_out(void);

/* Writes what is buffered before exiting, waiting at most ~0.5 s for a slow (or gone) reader. */
static void flush_before_exit(void) {
  double until = mono_now() + 0.5;
  while (outbuf.len > 0 && flush_out() && outbuf.len > 0) {
    double left = until - mono_now();
    if (left <= 0) break;
    struct pollfd pfd = {CHAN, POLLOUT, 0};
    poll(&pfd, 1, (int)ceil(left * 1000.0));
  }
}

static void kill_all_and_exit(int code) {
  for (size_t i = 0; i < ntasks; i++) {
    kill(-tasks[i].pid, SIGKILL);
    kill(tasks[i].pid, SIGKILL);
  }
  /* launches still waiting for a predecessor never start: tell Node they were cancelled */
  for (size_t i = 0; i < nsuccs; i++) report_cancelled(succs[i].id);
  nsuccs = 0;
  flush_before_exit();
  /* reap them (no zombies left for init), but never hang on a task stuck in the kernel */
  signal(SIGALRM, SIG_DFL);
  alarm(2);
  size_t left = ntasks;
  while (left > 0) {
    pid_t p = waitpid(-1, NULL, 0);
    if (p < 0 && errno == EINTR) continue;
    if (p < 0) break;
    for (size_t i = 0; i < ntasks; i++)
      if (tasks[i].pid == p) left--;
  }
  _exit(code);
}

static void reap(void) {
  for (;;) {
    int status;
    struct rusage ru;
    pid_t p = wait4(-1, &status, WNOHANG, &ru);
    if (p < 0 && errno == EINTR) continue;
    if (p <= 0) return;
    struct timespec end;
    clock_gettime(CLOCK_REALTIME, &end);
    for (size_t i = 0; i < ntasks; i++) {
      if (tasks[i].pid == p) {
        /* successors first (the gap is microseconds); they append to tasks, i stays valid */
        int started = start_successors(tasks[i].id);
        finish_task(i, status, &ru, &end);
        result_ready(started > 0);
        break;
      }
    }
  }
}

static void check_deadlines(void) {
  if (ntimed == 0) return;
  double now = mono_now();
  for (size_t i = 0; i < ntasks; i++) {
    task_t *t = &tasks[i];
    if (HAS_DEADLINE(t) && now >= t->deadline) {
      if (t->phase == PHASE_TERM_AT) {
        t->timed_out = 1;
        kill(-t->pid, SIGTERM);
        t->phase = PHASE_KILL_AT;
        t->deadline = now + t->grace;
      } else {
        kill(-t->pid, SIGKILL);
        kill(t->pid, SIGKILL);
        t->phase = PHASE_KILL_SENT;
        ntimed--;
      }
    }
  }
}

static int poll_timeout(void) {
  double now = mono_now(), best = INFINITY;
  if (outbuf.len > 0 && !flush_now && held_until > 0) best = held_until - now;
  for (size_t i = 0; ntimed > 0 && i < ntasks; i++) {
    task_t *t = &tasks[i];
    if (HAS_DEADLINE(t) && t->deadline - now < best) best = t->deadline - now;
  }
  if (isinf(best)) return -1;
  if (best <= 0) return 0;
  double ms = ceil(best * 1000.0);
  return ms > 3600000.0 ? 3600000 : (int)ms;
}

/* Returns 0 when the channel is gone. */
static int flush_out(void) {
  size_t off = 0;
  while (off < outbuf.len) {
    ssize_t w = write(CHAN, outbuf.p + off, outbuf.len - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return 0;
    }
    off += (size_t)w;
  }
  if (off) {
    memmove(outbuf.p, outbuf.p + off, outbuf.len - off);
    outbuf.len -= off;
  }
  return 1;
}

/* Returns 0 at EOF or on an error of the channel. */
static int read_requests(void) {
  for (;;) {
    buf_reserve(&inbuf, 65536);
    ssize_t r = read(CHAN, inbuf.p + inbuf.len, inbuf.cap - inbuf.len);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return 1;
      return 0;
    }
    if (r == 0) return 0;
    inbuf.len += (size_t)r;
    handle_requests();
  }
}

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  if (fcntl(CHAN, F_GETFD) < 0) {
    fprintf(stderr, "pegasus-ts-spawner: fd 3 must be the request channel (started by launch.node)\n");
    return 64;
  }
  close_range(4, ~0U, 0); /* nothing of the Node process leaks into tasks */
  /* keep 0, 1, 2 open so no capture or file ever lands on them */
  devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) die("/dev/null");
  for (int fd = 0; fd < 3; fd++)
    if (fcntl(fd, F_GETFD) < 0) dup2(devnull, fd);
  if (devnull < 3) devnull = fcntl(devnull, F_DUPFD_CLOEXEC, 4);
  fcntl(CHAN, F_SETFD, FD_CLOEXEC);
  fcntl(CHAN, F_SETFL, fcntl(CHAN, F_GETFL) | O_NONBLOCK);

  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, SIG_IGN); /* the terminal's ^C is for the Node side, which forwards it */
  signal(SIGQUIT, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) die("signalfd");

  /* tasks get an empty signal mask and default dispositions, in their own process group */
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_init(&spawn_attr);
  posix_spawnattr_setflags(&spawn_attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&spawn_attr, 0);
  posix_spawnattr_setsigmask(&spawn_attr, &none);
  posix_spawnattr_setsigdefault(&spawn_attr, &all);

  base_env = environ;

  struct pollfd pfds[2];
  for (;;) {
    pfds[0].fd = CHAN;
    pfds[0].events = POLLIN | (outbuf.len && flush_now ? POLLOUT : 0);
    pfds[1].fd = sfd;
    pfds[1].events = POLLIN;
    int n = poll(pfds, 2, poll_timeout());
    if (n < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (pfds[1].revents & POLLIN) {
      /* SIGTERM and SIGHUP are read and dropped: a batch system signals the whole process group
       * (scancel, mpirun), and the Node side decides what its tasks get; the spawner ends when
       * its channel does (EOF), so it never outlives the process that drives it. */
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
      }
      reap();
    }
    if (pfds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!read_requests()) kill_all_and_exit(0);
    }
    check_deadlines();
    /* a task that exits right after its launch: pick it up before sleeping in poll */
    if (outbuf.len > 0 && must_flush(mono_now())) {
      flush_now = 1; /* until the buffer is empty */
      if (!flush_out()) kill_all_and_exit(0);
    }
    if (outbuf.len == 0) {
      flush_now = 0;
      held_until = 0;
    }
  }
}
