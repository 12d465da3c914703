// launch.node: starts pegasus-ts-spawner over a socketpair and pumps bytes both ways.
//
// The addon knows nothing of the wire format (native/launch/wire.js encodes and decodes it):
//   write(buffer)  sends request bytes: straight from the JS thread when the socket takes them,
//                  else queued for a writer thread (order kept; the JS thread never blocks).
//   onData(buf)    a reader thread reads result bytes and hands each chunk to JS through a
//                  ThreadSafeFunction; at EOF it reaps the spawner and calls onData(null, status).
//   close()        shuts down the write side: the spawner kills its tasks and exits.
#include <napi.h>
#include <pthread.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern char **environ;

namespace {

struct State;

struct Event {
  std::vector<char> data;
  bool end = false;
  int status = 0;
  int err = 0;
  std::shared_ptr<State> state;  // end event only
};

// Shared between the JS object and the two threads, so that a collected object never leaves a
// thread with a dangling pointer.
struct State {
  int fd = -1;
  pid_t pid = -1;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> queue;
  bool writing = false;
  bool stop = false;
  bool broken = false;
  bool ended = false;    // JS thread only: the TSFN was released, no more Ref/Unref
  bool env_gone = false; // the Node environment is being torn down: never touch the TSFN again
  std::shared_ptr<State> *hook = nullptr;  // JS thread only: registered env cleanup hook
  Napi::ThreadSafeFunction tsfn;
  ~State() {
    if (fd >= 0) close(fd);
  }
};

// Runs on the JS thread when the environment shuts down (process exit, worker termination)
// before the TSFN is torn down: the reader thread must not call into it afterwards.
void EnvCleanup(void *arg) {
  auto *holder = static_cast<std::shared_ptr<State> *>(arg);
  std::shared_ptr<State> st = *holder;
  {
    std::lock_guard<std::mutex> lock(st->mu);
    st->env_gone = true;
    st->stop = true;
  }
  st->cv.notify_all();
  shutdown(st->fd, SHUT_WR);  // the spawner kills its tasks and exits
  st->hook = nullptr;
  delete holder;
}

void CallJs(Napi::Env env, Napi::Function cb, Event *ev) {
  std::unique_ptr<Event> owned(ev);
  if (ev->end && ev->state->hook) {
    napi_remove_env_cleanup_hook(env, EnvCleanup, ev->state->hook);
    delete ev->state->hook;
    ev->state->hook = nullptr;
  }
  if (env == nullptr || cb.IsEmpty()) return;
  napi_value args[3];
  size_t argc;
  if (ev->end) {
    ev->state->ended = true;
    args[0] = env.Null();
    args[1] = Napi::Number::New(env, ev->status);
    args[2] = Napi::Number::New(env, ev->err);
    argc = 3;
  } else {
    args[0] = Napi::Buffer<char>::Copy(env, ev->data.data(), ev->data.size());
    argc = 1;
  }
  napi_value result;
  // plain napi call: a failure here (the environment is shutting down, or the callback threw and
  // Node reports it as uncaught) must not become a C++ exception on this path
  napi_call_function(env, env.Undefined(), cb, argc, args, &result);
}

// Writes all of data; returns false when the channel is broken.
bool WriteAll(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t w = send(fd, data, len, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        // should not happen on a blocking socket; be safe
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, nullptr);
        continue;
      }
      return false;
    }
    data += w;
    len -= static_cast<size_t>(w);
  }
  return true;
}

void ReaderLoop(std::shared_ptr<State> st) {
  pthread_setname_np(pthread_self(), "pts-launch-rd");  // shown by top -H, ps -L, perf
  std::vector<char> buf(256 * 1024);
  int err = 0;
  for (;;) {
    ssize_t r = read(st->fd, buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      err = r < 0 ? errno : 0;
      break;
    }
    auto *ev = new Event();
    ev->data.assign(buf.data(), buf.data() + r);
    std::lock_guard<std::mutex> lock(st->mu);
    if (st->env_gone) {
      delete ev;
      return;
    }
    if (st->tsfn.BlockingCall(ev, CallJs) != napi_ok) delete ev;
  }
  {
    std::lock_guard<std::mutex> lock(st->mu);
    st->broken = true;
    st->stop = true;
  }
  st->cv.notify_all();
  int status = 0;
  while (waitpid(st->pid, &status, 0) < 0 && errno == EINTR) {
  }
  auto *ev = new Event();
  ev->end = true;
  ev->status = status;
  ev->err = err;
  ev->state = st;
  std::lock_guard<std::mutex> lock(st->mu);
  if (st->env_gone) {
    delete ev;
    return;
  }
  if (st->tsfn.BlockingCall(ev, CallJs) != napi_ok) delete ev;
  st->tsfn.Release();
}

void WriterLoop(std::shared_ptr<State> st) {
  pthread_setname_np(pthread_self(), "pts-launch-wr");
  std::unique_lock<std::mutex> lock(st->mu);
  for (;;) {
    st->cv.wait(lock, [&] { return st->stop || !st->queue.empty(); });
    if (st->queue.empty()) break;  // stop requested and nothing left
    std::string item = std::move(st->queue.front());
    st->queue.pop_front();
    st->writing = true;
    lock.unlock();
    bool ok = WriteAll(st->fd, item.data(), item.size());
    lock.lock();
    st->writing = false;
    if (!ok) {
      st->broken = true;
      st->queue.clear();
    }
    if (st->stop && st->queue.empty()) break;
  }
  // closing: the spawner sees EOF, kills its tasks and exits; the reader then sees EOF
  shutdown(st->fd, SHUT_WR);
}

class Spawner : public Napi::ObjectWrap<Spawner> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Spawner",
                       {
                           InstanceMethod("write", &Spawner::Write),
                           InstanceMethod("close", &Spawner::Close),
                           InstanceMethod("ref", &Spawner::Ref),
                           InstanceMethod("unref", &Spawner::Unref),
                           InstanceAccessor("pid", &Spawner::Pid, nullptr),
                       });
  }

  // new Spawner(spawnerPath: string, onData: (chunk: Buffer | null, status?: number, errno?: number) => void)
  explicit Spawner(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Spawner>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "Spawner(path: string, onData: function)").ThrowAsJavaScriptException();
      return;
    }
    std::string path = info[0].As<Napi::String>().Utf8Value();
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      Napi::Error::New(env, std::string("socketpair: ") + strerror(errno)).ThrowAsJavaScriptException();
      return;
    }
    // the child's end must not be fd 3 already (dup2(3, 3) would keep FD_CLOEXEC)
    int child = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
    close(sv[1]);
    int big = 4 * 1024 * 1024;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, child, 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    char *argv[] = {const_cast<char *>(path.c_str()), nullptr};
    pid_t pid = -1;
    int rc = posix_spawn(&pid, path.c_str(), &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(child);
    if (rc != 0) {
      close(sv[0]);
      Napi::Error::New(env, "cannot start " + path + ": " + strerror(rc)).ThrowAsJavaScriptException();
      return;
    }
    state_ = std::make_shared<State>();
    state_->fd = sv[0];
    state_->pid = pid;
    state_->tsfn = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "pegasus-ts-launch", 0, 1);
    state_->tsfn.Unref(env);
    referenced_ = false;
    state_->hook = new std::shared_ptr<State>(state_);
    napi_add_env_cleanup_hook(env, EnvCleanup, state_->hook);
    reader_ = std::thread(ReaderLoop, state_);
    writer_ = std::thread(WriterLoop, state_);
  }

  ~Spawner() override {
    if (!state_) return;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->stop = true;
    }
    state_->cv.notify_all();
    if (writer_.joinable()) writer_.detach();
    if (reader_.joinable()) reader_.detach();
  }

 private:
  // write(buf): returns false when the channel is already broken (the spawner died).
  Napi::Value Write(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!state_ || info.Length() < 1 || !info[0].IsBuffer()) {
      Napi::TypeError::New(env, "write(buffer)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto b = info[0].As<Napi::Buffer<char>>();
    const char *data = b.Data();
    size_t len = b.Length();
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->broken || closed_) return Napi::Boolean::New(env, false);
    if (state_->queue.empty() && !state_->writing) {
      while (len > 0) {
        ssize_t w = send(state_->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN) break;
          state_->broken = true;
          return Napi::Boolean::New(env, false);
        }
        data += w;
        len -= static_cast<size_t>(w);
      }
      if (len == 0) return Napi::Boolean::New(env, true);
    }
    state_->queue.emplace_back(data, len);
    state_->cv.notify_all();
    return Napi::Boolean::New(env, true);
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    if (state_ && !closed_) {
      closed_ = true;
      {
        std::lock_guard<std::mutex> lock(state_->mu);
        state_->stop = true;
      }
      // the writer flushes what is queued, then shuts the socket down for writing
      state_->cv.notify_all();
    }
    return info.Env().Undefined();
  }

  Napi::Value Ref(const Napi::CallbackInfo &info) {
    if (state_ && !referenced_ && !state_->ended) {
      state_->tsfn.Ref(info.Env());
      referenced_ = true;
    }
    return info.Env().Undefined();
  }

  Napi::Value Unref(const Napi::CallbackInfo &info) {
    if (state_ && referenced_ && !state_->ended) {
      state_->tsfn.Unref(info.Env());
      referenced_ = false;
    }
    return info.Env().Undefined();
  }

  Napi::Value Pid(const Napi::CallbackInfo &info) {
    return Napi::Number::New(info.Env(), state_ ? state_->pid : -1);
  }

 private:
  std::shared_ptr<State> state_;
  std::thread reader_, writer_;
  bool referenced_ = false;
  bool closed_ = false;
};

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  exports.Set("Spawner", Spawner::Init(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(launch, InitAll)
