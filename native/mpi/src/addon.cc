// mpi_transport.node: moves byte buffers between MPI ranks without ever blocking the JS thread.
//
// One C++ thread (the "MPI thread") owns MPI: it calls MPI_Init_thread, then loops:
//   - completes the sends in flight (MPI_Testsome) and frees their bytes; with
//     MPI_THREAD_MULTIPLE send() calls MPI_Isend on the JS thread (a small message usually
//     completes there; otherwise it is handed over), else it queues the bytes for this thread,
//   - sends a 0-byte heartbeat (TAG_HEARTBEAT) to each heartbeat peer it has sent nothing to
//     for heartbeatMs, and records when it last heard from every rank,
//   - receives everything that arrived (MPI_Improbe + MPI_Mrecv, any source) and hands it to JS
//     in batches through a ThreadSafeFunction (one pending call at a time: a burst of messages
//     becomes one JS callback),
//   - when there is nothing to do, sleeps: with every rank on one node on a POSIX semaphore that
//     senders post after MPI_Isend ("doorbell": woken at once by a message, else every 50 ms),
//     otherwise on a condition variable with a timeout growing from 50 us to 1 ms (4 ms after
//     50 ms of nothing), so an idle rank uses well under 1% of a core instead of the 100% of a
//     rank waiting inside MPI,
// and on close() completes (or cancels) its pending sends and calls MPI_Finalize on the same
// thread that called MPI_Init.
#include <mpi.h>
#include <napi.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sched.h>
#include <semaphore.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int TAG_MSG = 1;        // a whole message, or the last piece of one
constexpr int TAG_PART = 2;       // a piece of a message, more follow (messages > 1 GiB)
constexpr int TAG_HEARTBEAT = 3;  // transport-internal, never delivered to JS

// Idle back-off (tunable with PEGASUS_TS_MPI_SPIN_US, _FIRST_SLEEP_US, _MAX_SLEEP_US,
// _IDLE_AFTER_US, _IDLE_SLEEP_US):
int SPIN_US = 0;           // busy-poll this long after the last activity (0: never spin)
int FIRST_SLEEP_US = 50;   // then sleep, doubling ...
int MAX_SLEEP_US = 1000;   // ... up to this
int IDLE_AFTER_US = 50000; // and once nothing happened for this long ...
int IDLE_SLEEP_US = 4000;  // ... keep doubling up to this
constexpr int MAX_SLEEP_PENDING_US = 100;  // while large sends are in flight (they progress only when polled)
// Messages up to this size go eagerly (Open MPI's shared-memory eager limit: 4 KiB by default,
// 64 KiB as tuneOpenMpi() sets it; read from the environment at init()).
int EAGER_BYTES = 4096;
bool WAKE_ON_DEFERRED = false;  // PEGASUS_TS_MPI_WAKE_ON_DEFERRED=1: poll every deferred send at once
int BELL_WAIT_US = 50000;  // doorbell mode: longest sleep (paces heartbeats; PEGASUS_TS_MPI_BELL_WAIT_US)
int BELL_POLL_US = 0;      // doorbell mode: back-off polling this long after activity (_BELL_POLL_US)

void tuneFromEnv() {
  auto get = [](const char* name, int& v, int lo, int hi) {
    const char* s = getenv(name);
    if (s == nullptr || *s == 0) return;
    char* end = nullptr;
    long x = strtol(s, &end, 10);
    if (*end == 0 && x >= lo && x <= hi) v = int(x);
  };
  get("PEGASUS_TS_MPI_SPIN_US", SPIN_US, 0, 1000000);
  get("PEGASUS_TS_MPI_FIRST_SLEEP_US", FIRST_SLEEP_US, 1, 1000000);
  get("PEGASUS_TS_MPI_MAX_SLEEP_US", MAX_SLEEP_US, 1, 1000000);
  get("PEGASUS_TS_MPI_IDLE_AFTER_US", IDLE_AFTER_US, 0, 100000000);
  get("PEGASUS_TS_MPI_IDLE_SLEEP_US", IDLE_SLEEP_US, 1, 1000000);
  get("PEGASUS_TS_MPI_BELL_WAIT_US", BELL_WAIT_US, 1, 1000000);
  get("PEGASUS_TS_MPI_BELL_POLL_US", BELL_POLL_US, 0, 1000000);
  if (FIRST_SLEEP_US > MAX_SLEEP_US) FIRST_SLEEP_US = MAX_SLEEP_US;
  if (IDLE_SLEEP_US < MAX_SLEEP_US) IDLE_SLEEP_US = MAX_SLEEP_US;
}
constexpr int MAX_RECV_PER_ROUND = 4096;

enum Kind { K_INIT = 1, K_MESSAGES = 2, K_CLOSED = 3, K_ERROR = 4 };

struct Out {
  int dest;
  int tag;
  char* data;
  int len;
};
struct Pending {
  MPI_Request req;
  char* data;
  int dest;     // -1: a heartbeat (rings no doorbell)
  bool urgent;  // larger than the eager limit: progresses only while the sender polls
};
struct In {
  int source;
  int tag;
  char* data;
  int len;
};

int64_t nowUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

std::string mpiError(int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(rc);
  return std::string(text, len);
}

// Open MPI settings, made through the environment before MPI_Init (every rank runs this, so all
// agree), never over a setting of the user (mpirun --mca and OMPI_MCA_* are environment too);
// PEGASUS_TS_MPI_MCA_TUNING=0 turns them off:
// - the shared-memory BTL sends messages above its eager limit (4 KiB) by rendezvous: the
//   sender's request completes only after its MPI thread has progressed the receiver's reply
//   (extra wake-ups on both sides); the cluster's result batches are often 4-64 KiB: 64 KiB.
// - when every rank is on this node (OMPI_COMM_WORLD_LOCAL_SIZE == OMPI_COMM_WORLD_SIZE), the
//   ob1 PML (shared memory through the vader/sm BTL): choosing a PML otherwise probes UCX and
//   the MTLs, about 200 ms of MPI_Init on the 2-core test machine (280 -> 75 ms).
// - mpi_yield_when_idle 0: with more ranks than cores (mpirun --oversubscribe, or just a master
//   beside one worker per core) Open MPI makes every progress call that finds nothing to do
//   sched_yield(); the MPI_Test after each send then hands the JS thread's core to a task and
//   waits for it back (a send took 0.67 ms of the JS thread; 41,000 instead of 29,000
//   involuntary context switches in 20,000 tasks). Nothing here waits inside MPI: the MPI thread
//   sleeps on its doorbell or a condition variable, so yielding buys nothing.
void tuneOpenMpi() {
#ifdef OPEN_MPI
  const char* off = getenv("PEGASUS_TS_MPI_MCA_TUNING");
  if (off != nullptr && strcmp(off, "0") == 0) return;
  if (getenv("OMPI_MCA_btl_vader_eager_limit") == nullptr && getenv("OMPI_MCA_btl_sm_eager_limit") == nullptr) {
#if OMPI_MAJOR_VERSION >= 5
    setenv("OMPI_MCA_btl_sm_eager_limit", "65536", 0);
#else
    setenv("OMPI_MCA_btl_vader_eager_limit", "65536", 0);
#endif
  }
  setenv("OMPI_MCA_mpi_yield_when_idle", "0", 0);
  const char* localSize = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const char* worldSize = getenv("OMPI_COMM_WORLD_SIZE");
  if (localSize != nullptr && worldSize != nullptr && *worldSize != 0 && strcmp(localSize, worldSize) == 0 &&
      getenv("OMPI_MCA_pml") == nullptr)
    setenv("OMPI_MCA_pml", "ob1", 0);
#endif
}

// Where the process is in MPI's life: MPI can be initialised once.
enum Phase : int { PHASE_NEW, PHASE_INITIALISING, PHASE_RUNNING, PHASE_CLOSING, PHASE_CLOSED };

// Everything is per process: MPI can be initialised once.
struct State {
  std::atomic<int> phase{PHASE_NEW};
  std::thread thread;
  Napi::ThreadSafeFunction tsfn;
  Napi::FunctionReference onMessages;
  std::unique_ptr<Napi::Promise::Deferred> initDeferred;
  std::unique_ptr<Napi::Promise::Deferred> closeDeferred;

  std::mutex mu;
  std::condition_variable cv;
  std::vector<Out> outq;           // guarded by mu (sends for the MPI thread to post)
  std::vector<Pending> posted;     // guarded by mu (sends JS posted that are still in flight)
  std::vector<In> inq;             // guarded by mu
  bool deliveryScheduled = false;  // guarded by mu
  bool stopRequested = false;      // guarded by mu
  bool finalizeOnStop = true;      // guarded by mu
  int stopTimeoutMs = 2000;        // guarded by mu
  std::vector<std::string> errors; // guarded by mu

  // Set by the MPI thread before K_INIT; read-only afterwards.
  int rank = -1;
  int size = 0;
  int provided = -1;
  std::string library;
  std::string processor;
  std::string initError;
  int heartbeatMs = 0;
  std::vector<int> heartbeatPeers;
  std::unique_ptr<std::atomic<int64_t>[]> lastHeardUs;
  std::unique_ptr<std::atomic<int64_t>[]> lastSentUs;
  // MPI_THREAD_MULTIPLE: send() calls MPI_Isend on the JS thread (no wake-up of the MPI thread).
  bool directSend = false;
  std::atomic<int64_t> lastJsSendUs{0};  // a send resets the MPI thread's back-off (a reply is due)
  // Doorbells (every rank on one node): each rank has a POSIX semaphore; a sender posts the
  // receiver's after MPI_Isend, so an idle MPI thread sleeps in sem_timedwait instead of polling.
  sem_t* bell = nullptr;            // this rank's (nullptr: polling mode)
  std::vector<sem_t*> peerBells;    // by rank; nullptr where none

  std::atomic<uint64_t> wakeups{0}, sleeps{0}, received{0}, sent{0}, bytesIn{0}, bytesOut{0};
  std::atomic<int64_t> pendingSends{0};
  std::atomic<uint64_t> deferredSends{0}, bellTimeouts{0};
  std::atomic<int64_t> threadCpuUs{0};  // CPU time of the MPI thread, updated when it sleeps
  int nodelaySockets = 0;                // loopback sockets given TCP_NODELAY after MPI_Init
  std::atomic<bool> finalized{false};
};

State* S = nullptr;

void post(Kind kind);

void callJs(Napi::Env env, Napi::Function, void* data) {
  Kind kind = Kind(reinterpret_cast<intptr_t>(data));
  State& s = *S;
  if (env == nullptr) return;
  Napi::HandleScope scope(env);
  if (kind == K_INIT) {
    auto d = std::move(s.initDeferred);
    if (!d) return;
    if (!s.initError.empty()) {
      d->Reject(Napi::Error::New(env, s.initError).Value());
      return;
    }
    Napi::Object info = Napi::Object::New(env);
    info.Set("rank", s.rank);
    info.Set("size", s.size);
    const char* level = s.provided == MPI_THREAD_MULTIPLE     ? "multiple"
                        : s.provided == MPI_THREAD_SERIALIZED ? "serialized"
                        : s.provided == MPI_THREAD_FUNNELED   ? "funneled"
                                                              : "single";
    info.Set("threadLevel", level);
    info.Set("library", s.library);
    info.Set("processor", s.processor);
    d->Resolve(info);
    return;
  }
  if (kind == K_MESSAGES || kind == K_ERROR) {
    std::vector<In> batch;
    std::vector<std::string> errors;
    {
      std::lock_guard<std::mutex> g(s.mu);
      batch.swap(s.inq);
      errors.swap(s.errors);
      s.deliveryScheduled = false;
    }
    if (s.onMessages.IsEmpty()) {
      for (auto& m : batch) free(m.data);
      return;
    }
    Napi::Array flat = Napi::Array::New(env, batch.size() * 3);
    uint32_t k = 0;
    for (auto& m : batch) {
      flat.Set(k++, Napi::Number::New(env, m.source));
      flat.Set(k++, Napi::Number::New(env, m.tag));
      flat.Set(k++, Napi::Buffer<char>::New(env, m.data, size_t(m.len), [](Napi::Env, char* p) { free(p); }));
    }
    Napi::Value errs = env.Undefined();
    if (!errors.empty()) {
      Napi::Array a = Napi::Array::New(env, errors.size());
      for (uint32_t i = 0; i < errors.size(); i++) a.Set(i, errors[i]);
      errs = a;
    }
    try {
      s.onMessages.Call({flat, errs});
    } catch (const Napi::Error& e) {
      e.ThrowAsJavaScriptException();
    }
    return;
  }
  if (kind == K_CLOSED) {
    s.phase = PHASE_CLOSED;
    s.onMessages.Reset();
    auto d = std::move(s.closeDeferred);
    if (d) d->Resolve(env.Undefined());
  }
}

void post(Kind kind) {
  S->tsfn.BlockingCall(reinterpret_cast<void*>(intptr_t(kind)), callJs);
}

void addError(State& s, std::string e) {
  bool schedule = false;
  {
    std::lock_guard<std::mutex> g(s.mu);
    s.errors.push_back(std::move(e));
    if (!s.deliveryScheduled) schedule = s.deliveryScheduled = true;
  }
  if (schedule) post(K_ERROR);
}

char heartbeatByte = 0;

// Wakes this rank's MPI thread (a send to post, a stop request).
void wakeSelf(State& s) {
  if (s.bell != nullptr) sem_post(s.bell);
  else s.cv.notify_one();
}

// Tells rank `dest`'s MPI thread that a message is on its way.
void ring(State& s, int dest) {
  if (s.bell != nullptr && s.peerBells[size_t(dest)] != nullptr) sem_post(s.peerBells[size_t(dest)]);
}

// The PMIx client (Open MPI 4.1 with PMIx 4 here) talks to its local server (mpirun's daemon,
// slurmstepd) over a loopback TCP socket without TCP_NODELAY: in MPI_Finalize a few small
// messages then wait out the server's delayed ACK, about 45 ms in every rank of every job
// (measured: 47 -> 4 ms). After MPI_Init this sets TCP_NODELAY on the process's loopback TCP
// sockets that lack it; it changes when bytes leave, never what they are, and touches no socket
// to another host. PEGASUS_TS_MPI_NODELAY=0 turns it off. Returns how many it set.
int nodelayLoopbackSockets() {
  const char* off = getenv("PEGASUS_TS_MPI_NODELAY");
  if (off != nullptr && strcmp(off, "0") == 0) return 0;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  int n = 0;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long fd = strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != 0 || fd == dirfd(d)) continue;
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(int(fd), SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) continue;
    sockaddr_storage peer{};
    len = sizeof peer;
    if (getpeername(int(fd), reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    bool loopback = false;
    if (peer.ss_family == AF_INET) {
      loopback = (ntohl(reinterpret_cast<sockaddr_in*>(&peer)->sin_addr.s_addr) >> 24) == 127;
    } else if (peer.ss_family == AF_INET6) {
      const in6_addr& a = reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr;
      loopback = IN6_IS_ADDR_LOOPBACK(&a) || (IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127);
    }
    if (!loopback) continue;
    int on = 0;
    len = sizeof on;
    if (getsockopt(int(fd), IPPROTO_TCP, TCP_NODELAY, &on, &len) != 0 || on) continue;
    on = 1;
    if (setsockopt(int(fd), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0) n++;
  }
  closedir(d);
  return n;
}

// Doorbell set-up, collective (every rank calls it from MPI thread before anything is sent).
// Used only when every rank of the job shares this node (MPI_COMM_TYPE_SHARED) and every rank
// could create and open the semaphores; otherwise every rank polls. Names are unlinked once all
// ranks have opened them, so nothing is left in /dev/shm even if a rank is killed.
void setupBells(State& s) {
  s.peerBells.assign(size_t(s.size), nullptr);
  const char* off = getenv("PEGASUS_TS_MPI_DOORBELL");
  int ok = off != nullptr && strcmp(off, "0") == 0 ? 0 : 1;
  MPI_Comm local;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local) == MPI_SUCCESS) {
    int localSize = 0;
    MPI_Comm_size(local, &localSize);
    if (localSize != s.size) ok = 0;
    MPI_Comm_free(&local);
  } else {
    ok = 0;
  }
  int all = 0;
  MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (!all) return;
  char prefix[64] = {0};
  if (s.rank == 0) {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(prefix, sizeof prefix, "/pegasus-ts-mpi-%ld-%lx", long(getpid()), long(ts.tv_nsec) ^ long(ts.tv_sec));
  }
  MPI_Bcast(prefix, sizeof prefix, MPI_CHAR, 0, MPI_COMM_WORLD);
  auto name = [&](int r) { return std::string(prefix) + "-" + std::to_string(r); };
  sem_t* mine = sem_open(name(s.rank).c_str(), O_CREAT | O_EXCL, 0600, 0);
  ok = mine != SEM_FAILED;
  MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (all) {
    for (int peer : s.heartbeatPeers) {
      sem_t* b = sem_open(name(peer).c_str(), 0);
      if (b == SEM_FAILED) ok = 0;
      else s.peerBells[size_t(peer)] = b;
    }
  }
  int opened = 0;
  MPI_Allreduce(&ok, &opened, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);  // also: everyone has opened
  if (mine != SEM_FAILED) sem_unlink(name(s.rank).c_str());
  if (all && opened) {
    s.bell = mine;
    return;
  }
  for (auto& b : s.peerBells) {
    if (b != nullptr) sem_close(b);
    b = nullptr;
  }
  if (mine != SEM_FAILED) sem_close(mine);
}

void freeSendBuffer(char* data) {
  if (data != &heartbeatByte) free(data);
}

// Polls the pending sends (one MPI_Testsome); frees the completed ones.
void testPending(std::vector<Pending>& pending) {
  thread_local std::vector<MPI_Request> reqs;
  thread_local std::vector<int> done;
  size_t n = pending.size();
  reqs.resize(n);
  done.resize(n);
  for (size_t i = 0; i < n; i++) reqs[i] = pending[i].req;
  int outcount = 0;
  int rc = MPI_Testsome(int(n), reqs.data(), &outcount, done.data(), MPI_STATUSES_IGNORE);
  if (rc != MPI_SUCCESS || outcount == MPI_UNDEFINED) outcount = 0;
  State& s = *S;
  for (int k = 0; k < outcount; k++) {
    Pending& p = pending[size_t(done[size_t(k)])];
    freeSendBuffer(p.data);
    p.data = nullptr;
    // A send that did not complete inside MPI_Isend may have reached the peer only now, after
    // the ring that followed MPI_Isend: ring again.
    if (p.dest >= 0) ring(s, p.dest);
  }
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    if (pending[i].data == nullptr) continue;
    // Still in flight (a rendezvous waits for the peer to look): keep its receiver looking.
    if (pending[i].dest >= 0 && pending[i].urgent) ring(s, pending[i].dest);
    pending[j] = pending[i];
    pending[j].req = reqs[i];
    j++;
  }
  pending.resize(j);
  S->pendingSends = int64_t(j);
}

void isend(State& s, std::vector<Pending>& pending, int dest, int tag, char* data, int len) {
  MPI_Request req;
  int rc = MPI_Isend(data, len, MPI_BYTE, dest, tag, MPI_COMM_WORLD, &req);
  if (rc != MPI_SUCCESS) {
    if (data != &heartbeatByte) free(data);
    addError(s, "MPI_Isend to rank " + std::to_string(dest) + " failed: " + mpiError(rc));
    return;
  }
  pending.push_back({req, data, tag == TAG_HEARTBEAT ? -1 : dest, len > EAGER_BYTES});
  if (tag != TAG_HEARTBEAT) {
    ring(s, dest);
    s.sent++;
    s.bytesOut += uint64_t(len);
  }
}

// Receives what has arrived. deliver=false (closing) drops data messages.
bool receiveAll(State& s, bool deliver) {
  std::vector<In> batch;
  bool retried = false;
  for (int n = 0; n < MAX_RECV_PER_ROUND; n++) {
    int flag = 0;
    MPI_Message msg;
    MPI_Status st;
    int rc = MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &msg, &st);
    if (rc != MPI_SUCCESS) {
      addError(s, "MPI_Improbe failed: " + mpiError(rc));
      break;
    }
    if (!flag) {
      // Open MPI's MPI_Improbe matches against what has arrived, then runs the progress engine,
      // which may just have brought a message in: look once more, or it waits for the next round.
      if (retried) break;
      retried = true;
      continue;
    }
    int count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    char* data = static_cast<char*>(malloc(size_t(std::max(count, 1))));
    if (data == nullptr) {
      addError(s, "out of memory receiving " + std::to_string(count) + " bytes");
      std::abort();
    }
    rc = MPI_Mrecv(data, count, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
      free(data);
      addError(s, "MPI_Mrecv failed: " + mpiError(rc));
      continue;
    }
    int src = st.MPI_SOURCE;
    if (src >= 0 && src < s.size) s.lastHeardUs[src] = nowUs();
    if (st.MPI_TAG == TAG_HEARTBEAT || !deliver) {
      free(data);
      continue;
    }
    s.received++;
    s.bytesIn += uint64_t(count);
    batch.push_back({src, st.MPI_TAG, data, count});
  }
  if (batch.empty()) return false;
  bool schedule = false;
  {
    std::lock_guard<std::mutex> g(s.mu);
    if (s.inq.empty()) s.inq.swap(batch);
    else s.inq.insert(s.inq.end(), batch.begin(), batch.end());
    if (!s.deliveryScheduled) schedule = s.deliveryScheduled = true;
  }
  if (schedule) post(K_MESSAGES);
  return true;
}

// MPI_Init and what the rest needs to know about the world: rank, size, thread level, library,
// heartbeat peers, doorbells. False (with s.initError) when MPI cannot start.
bool initWorld(State& s) {
  int provided = -1;
  int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
  if (rc != MPI_SUCCESS) {
    s.initError = "MPI_Init_thread failed: " + mpiError(rc);
    return false;
  }
  // Named after MPI_Init: the threads MPI starts keep the name their creator had then.
  pthread_setname_np(pthread_self(), "pts-mpi");  // shown by top -H, ps -L, perf
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  s.nodelaySockets = nodelayLoopbackSockets();
  s.provided = provided;
  MPI_Comm_rank(MPI_COMM_WORLD, &s.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &s.size);
  {
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(lib, &len);
    std::string l(lib, len);
    s.library = l.substr(0, l.find_first_of("\n,"));
    char name[MPI_MAX_PROCESSOR_NAME];
    MPI_Get_processor_name(name, &len);
    s.processor = std::string(name, len);
  }
  int64_t start = nowUs();
  s.lastHeardUs.reset(new std::atomic<int64_t>[size_t(s.size)]);
  s.lastSentUs.reset(new std::atomic<int64_t>[size_t(s.size)]);
  for (int i = 0; i < s.size; i++) s.lastHeardUs[i] = s.lastSentUs[i] = start;
  s.directSend = provided == MPI_THREAD_MULTIPLE && getenv("PEGASUS_TS_MPI_QUEUE_SENDS") == nullptr;
  // Heartbeats follow the master/worker topology: rank 0 to every worker, a worker to rank 0.
  if (s.rank == 0) {
    for (int r = 1; r < s.size; r++) s.heartbeatPeers.push_back(r);
  } else {
    s.heartbeatPeers.push_back(0);
  }
  setupBells(s);
  return true;
}

// The MPI thread's own state between turns of its loop.
struct Loop {
  std::vector<Out> local;       // sends taken from s.outq this turn
  std::vector<Pending> pending; // sends in flight
  int64_t lastActive = 0;
  int64_t lastHeartbeatCheck = 0;
  int sleepUs = 0;
  // What close() asked for, read under the lock with the outbox.
  bool stop = false;
  int stopTimeoutMs = 0;
  bool finalize = true;
};

// Takes what JS queued (sends to post, sends it posted itself) and whether to stop.
void takeOutbox(State& s, Loop& l) {
  std::lock_guard<std::mutex> g(s.mu);
  l.local.swap(s.outq);
  if (!s.posted.empty()) {
    l.pending.insert(l.pending.end(), s.posted.begin(), s.posted.end());
    s.posted.clear();
  }
  l.stop = s.stopRequested;
  l.stopTimeoutMs = s.stopTimeoutMs;
  l.finalize = s.finalizeOnStop;
}

// Posts the sends taken from the outbox; true if there were any.
bool postSends(State& s, Loop& l, int64_t now) {
  bool any = !l.local.empty();
  for (auto& o : l.local) {
    isend(s, l.pending, o.dest, o.tag, o.data, o.len);
    s.lastSentUs[size_t(o.dest)] = now;
  }
  l.local.clear();
  return any;
}

// At most every 10 ms: a heartbeat to each peer this rank has sent nothing to for heartbeatMs.
void sendHeartbeats(State& s, Loop& l, int64_t now) {
  if (s.heartbeatMs <= 0 || now - l.lastHeartbeatCheck < 10000) return;
  l.lastHeartbeatCheck = now;
  for (int peer : s.heartbeatPeers) {
    if (now - s.lastSentUs[size_t(peer)].load() >= int64_t(s.heartbeatMs) * 1000) {
      isend(s, l.pending, peer, TAG_HEARTBEAT, &heartbeatByte, 0);
      s.lastSentUs[size_t(peer)] = now;
    }
  }
}

// Nothing happened this turn: spin a little, then sleep with a growing back-off, in
// sem_timedwait when doorbells work (a peer or JS rings), else on the condition variable.
void idle(State& s, Loop& l, int64_t now) {
  int64_t jsSend = s.lastJsSendUs.load(std::memory_order_relaxed);
  if (jsSend > l.lastActive) {
    // JS sent something since: a reply is likely soon; poll fast again.
    l.lastActive = jsSend;
    l.sleepUs = 0;
  }
  if (now - l.lastActive < SPIN_US) return;
  int ceiling = now - l.lastActive >= IDLE_AFTER_US ? IDLE_SLEEP_US : MAX_SLEEP_US;
  l.sleepUs = l.sleepUs == 0 ? FIRST_SLEEP_US : std::min(l.sleepUs * 2, ceiling);
  bool urgent = false;  // large sends in flight progress only while polled
  for (auto& p : l.pending) urgent = urgent || p.urgent;
  int wait = urgent ? std::min(l.sleepUs, MAX_SLEEP_PENDING_US) : l.sleepUs;
  s.sleeps++;
  {
    timespec cpu;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    s.threadCpuUs = int64_t(cpu.tv_sec) * 1000000 + cpu.tv_nsec / 1000;
  }
  if (s.bell != nullptr) {
    // Doorbell mode: peers ring after sending, JS rings for its own sends and close(); the
    // timeout only paces heartbeats (and polls in-flight sends, which progress only when polled).
    // (Optionally, PEGASUS_TS_MPI_BELL_POLL_US, the short back-off for a while after activity.)
    int waitUs = urgent || now - l.lastActive < BELL_POLL_US ? wait : BELL_WAIT_US;
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = int64_t(ts.tv_nsec) + int64_t(waitUs) * 1000;
    ts.tv_sec += time_t(ns / 1000000000);
    ts.tv_nsec = long(ns % 1000000000);
    int wr;
    while ((wr = sem_timedwait(s.bell, &ts)) != 0 && errno == EINTR) {
    }
    if (wr != 0) s.bellTimeouts++;
    while (sem_trywait(s.bell) == 0) {
    }
    l.sleepUs = 0;
    return;
  }
  std::unique_lock<std::mutex> lk(s.mu);
  if (s.cv.wait_for(lk, std::chrono::microseconds(wait), [&] { return !s.outq.empty() || !s.posted.empty() || s.stopRequested; })) {
    l.sleepUs = 0;
  }
}

// Closing: let the queued sends complete (receiving and dropping what still arrives, so that
// peers' large sends can complete too), cancel what is left after the timeout, finalize.
void closeWorld(State& s, Loop& l) {
  {
    std::lock_guard<std::mutex> g(s.mu);
    l.pending.insert(l.pending.end(), s.posted.begin(), s.posted.end());
    s.posted.clear();
  }
  if (s.bell != nullptr) {
    for (auto& b : s.peerBells) {
      if (b != nullptr) sem_close(b);
      b = nullptr;
    }
    // s.bell stays open: JS may still ring it (close() after this point is a no-op anyway).
  }
  int64_t deadline = nowUs() + int64_t(l.stopTimeoutMs) * 1000;
  while (!l.pending.empty() && nowUs() < deadline) {
    receiveAll(s, false);
    testPending(l.pending);
    if (!l.pending.empty()) {
      timespec ts{0, 100 * 1000};
      nanosleep(&ts, nullptr);
    }
  }
  for (auto& p : l.pending) {
    MPI_Cancel(&p.req);
    MPI_Request_free(&p.req);
    // The library may still read the buffer of a cancelled send: leak it (process is ending).
  }
  s.pendingSends = int64_t(l.pending.size());
  l.pending.clear();
  if (l.finalize) {
    MPI_Finalize();
    s.finalized = true;
  }
}

// The MPI thread: initialise, then move messages both ways until close(), then finalize.
void mpiThread() {
  State& s = *S;
  if (!initWorld(s)) {
    post(K_INIT);
    s.tsfn.Release();
    return;
  }
  s.phase = PHASE_RUNNING;
  post(K_INIT);

  Loop l;
  l.lastActive = nowUs();
  while (true) {
    s.wakeups++;
    takeOutbox(s, l);
    int64_t now = nowUs();
    bool active = postSends(s, l, now);
    if (l.stop) break;
    sendHeartbeats(s, l, now);
    if (receiveAll(s, true)) active = true;
    if (!l.pending.empty()) testPending(l.pending);
    now = nowUs();
    if (active) {
      l.lastActive = now;
      l.sleepUs = 0;
      continue;
    }
    idle(s, l, now);
  }

  closeWorld(s, l);
  post(K_CLOSED);
  s.tsfn.Release();
}

State& state() {
  if (S == nullptr) S = new State();  // never freed: MPI state lives as long as the process
  return *S;
}

// init(onMessages, { heartbeatMs = 0 }) -> Promise<{ rank, size, threadLevel, library, processor }>
// onMessages(flat: [source, tag, Buffer, ...], errors?: string[])
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  State& s = state();
  if (info.Length() < 1 || !info[0].IsFunction())
    throw Napi::TypeError::New(env, "init(onMessages, options): onMessages must be a function");
  int expected = PHASE_NEW;
  if (!s.phase.compare_exchange_strong(expected, PHASE_INITIALISING))
    throw Napi::Error::New(env, "MPI was already initialised in this process (it can be only once)");
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    if (o.Has("heartbeatMs")) s.heartbeatMs = std::max(0, o.Get("heartbeatMs").As<Napi::Number>().Int32Value());
  }
  tuneFromEnv();
  tuneOpenMpi();
  for (const char* v : {"OMPI_MCA_btl_vader_eager_limit", "OMPI_MCA_btl_sm_eager_limit"}) {
    const char* e = getenv(v);
    if (e != nullptr && atoi(e) > 0) EAGER_BYTES = std::min(atoi(e), 1 << 20);
  }
  WAKE_ON_DEFERRED = getenv("PEGASUS_TS_MPI_WAKE_ON_DEFERRED") != nullptr;
  s.onMessages = Napi::Persistent(info[0].As<Napi::Function>());
  s.initDeferred = std::make_unique<Napi::Promise::Deferred>(env);
  Napi::Promise promise = s.initDeferred->Promise();
  s.tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "pegasus-ts-mpi", 0, 1);
  s.thread = std::thread(mpiThread);
  s.thread.detach();
  return promise;
}

void requireRunning(Napi::Env env) {
  if (S == nullptr || S->phase.load() != PHASE_RUNNING) throw Napi::Error::New(env, "MPI is not running (init() first; closed?)");
}

// send(dest, tag, buffer): copies the bytes and queues them; never blocks.
Napi::Value Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireRunning(env);
  State& s = *S;
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsBuffer())
    throw Napi::TypeError::New(env, "send(dest, tag, buffer)");
  int dest = info[0].As<Napi::Number>().Int32Value();
  int tag = info[1].As<Napi::Number>().Int32Value();
  if (dest < 0 || dest >= s.size || dest == s.rank)
    throw Napi::RangeError::New(env, "send: bad destination rank " + std::to_string(dest));
  if (tag != TAG_MSG && tag != TAG_PART) throw Napi::RangeError::New(env, "send: tag must be 1 or 2");
  auto buf = info[2].As<Napi::Buffer<char>>();
  if (buf.Length() > size_t(INT_MAX)) throw Napi::RangeError::New(env, "send: buffer larger than 2 GiB - 1");
  int len = int(buf.Length());
  char* data = static_cast<char*>(malloc(size_t(std::max(len, 1))));
  if (data == nullptr) throw Napi::Error::New(env, "send: out of memory");
  if (len > 0) memcpy(data, buf.Data(), size_t(len));
  if (!s.directSend) {
    {
      std::lock_guard<std::mutex> g(s.mu);
      s.outq.push_back({dest, tag, data, len});
    }
    wakeSelf(s);
    return env.Undefined();
  }
  // MPI_THREAD_MULTIPLE: post the send here. A small message usually completes at once (eager,
  // copied into the peer's shared-memory queue); otherwise the MPI thread completes it.
  MPI_Request req;
  int rc = MPI_Isend(data, len, MPI_BYTE, dest, tag, MPI_COMM_WORLD, &req);
  if (rc != MPI_SUCCESS) {
    free(data);
    throw Napi::Error::New(env, "MPI_Isend to rank " + std::to_string(dest) + " failed: " + mpiError(rc));
  }
  int64_t now = nowUs();
  s.lastSentUs[dest] = now;
  s.lastJsSendUs.store(now, std::memory_order_relaxed);
  s.sent++;
  s.bytesOut += uint64_t(len);
  int done = 0;
  MPI_Test(&req, &done, MPI_STATUS_IGNORE);
  ring(s, dest);
  if (done) {
    free(data);
    return env.Undefined();
  }
  {
    std::lock_guard<std::mutex> g(s.mu);
    s.posted.push_back({req, data, dest, len > EAGER_BYTES});
  }
  s.deferredSends++;
  // An eager message is in the peer's queue already; its request completes once the peer has
  // read it, which the MPI thread notices on its next round. A larger one (rendezvous) needs
  // the MPI thread to poll now (every 100 us until it completes).
  if (len > EAGER_BYTES || WAKE_ON_DEFERRED) wakeSelf(s);  // it progresses only while polled: the MPI thread polls often while sends are in flight
  return env.Undefined();
}

// silence(rank) -> milliseconds since anything (a message or a heartbeat) came from rank.
Napi::Value Silence(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireRunning(env);
  int r = info[0].As<Napi::Number>().Int32Value();
  if (r < 0 || r >= S->size) throw Napi::RangeError::New(env, "silence: bad rank");
  return Napi::Number::New(env, double(nowUs() - S->lastHeardUs[r].load()) / 1000.0);
}

// close({ finalize = true, timeoutMs = 2000 }) -> Promise<void>
Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  State& s = state();
  auto d = std::make_unique<Napi::Promise::Deferred>(env);
  Napi::Promise promise = d->Promise();
  int phase = s.phase.load();
  if (phase != PHASE_RUNNING) {
    if (phase == PHASE_CLOSED || phase == PHASE_NEW) {
      d->Resolve(env.Undefined());
      return promise;
    }
    throw Napi::Error::New(env, phase == PHASE_INITIALISING ? "close: MPI is still initialising" : "close: already closing");
  }
  s.phase = PHASE_CLOSING;
  s.closeDeferred = std::move(d);
  {
    std::lock_guard<std::mutex> g(s.mu);
    if (info.Length() > 0 && info[0].IsObject()) {
      Napi::Object o = info[0].As<Napi::Object>();
      if (o.Has("finalize")) s.finalizeOnStop = o.Get("finalize").ToBoolean();
      if (o.Has("timeoutMs")) s.stopTimeoutMs = std::max(0, o.Get("timeoutMs").As<Napi::Number>().Int32Value());
    }
    s.stopRequested = true;
  }
  wakeSelf(s);
  return promise;
}

// abort(code): MPI_Abort on MPI_COMM_WORLD (ends every rank). Returns only if MPI is not running.
Napi::Value Abort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int code = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  if (S == nullptr || S->phase.load() < PHASE_RUNNING || S->finalized.load()) return Napi::Boolean::New(env, false);
  MPI_Abort(MPI_COMM_WORLD, code);
  return Napi::Boolean::New(env, true);
}

// ref()/unref(): whether a running MPI thread keeps the event loop alive (it does by default).
Napi::Value Ref(const Napi::CallbackInfo& info) {
  if (S != nullptr && S->phase.load() >= PHASE_INITIALISING && S->phase.load() <= PHASE_CLOSING) S->tsfn.Ref(info.Env());
  return info.Env().Undefined();
}
Napi::Value Unref(const Napi::CallbackInfo& info) {
  if (S != nullptr && S->phase.load() >= PHASE_INITIALISING && S->phase.load() <= PHASE_CLOSING) S->tsfn.Unref(info.Env());
  return info.Env().Undefined();
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  State& s = state();
  o.Set("wakeups", double(s.wakeups.load()));
  o.Set("sleeps", double(s.sleeps.load()));
  o.Set("received", double(s.received.load()));
  o.Set("sent", double(s.sent.load()));
  o.Set("bytesIn", double(s.bytesIn.load()));
  o.Set("bytesOut", double(s.bytesOut.load()));
  o.Set("pendingSends", double(s.pendingSends.load()));
  o.Set("threadCpuMs", double(s.threadCpuUs.load()) / 1000.0);
  o.Set("doorbell", s.bell != nullptr);
  o.Set("deferredSends", double(s.deferredSends.load()));
  o.Set("bellTimeouts", double(s.bellTimeouts.load()));
  o.Set("nodelaySockets", double(s.nodelaySockets));
  o.Set("directSend", s.directSend);
  static const char* phases[] = {"new", "initialising", "running", "closing", "closed"};  // by Phase
  o.Set("phase", phases[s.phase.load()]);
  return o;
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("send", Napi::Function::New(env, Send, "send"));
  exports.Set("silence", Napi::Function::New(env, Silence, "silence"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("abort", Napi::Function::New(env, Abort, "abort"));
  exports.Set("ref", Napi::Function::New(env, Ref, "ref"));
  exports.Set("unref", Napi::Function::New(env, Unref, "unref"));
  exports.Set("stats", Napi::Function::New(env, Stats, "stats"));
  exports.Set("TAG_MSG", TAG_MSG);
  exports.Set("TAG_PART", TAG_PART);
  return exports;
}

}  // namespace

NODE_API_MODULE(mpi_transport, InitModule)

