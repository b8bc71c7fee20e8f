// Master process (see fcgi/master.h).
#include "fcgi/master.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "core/log.h"
#include "fcgi/listen_socket.h"
#include "fcgi/scoreboard.h"
#include "fcgi/shipper_process.h"
#include "fcgi/worker.h"

namespace scanline {
namespace {

using Clock = std::chrono::steady_clock;

// Slots for twice the largest pool (old and new generation overlap during a reload).
constexpr int kScoreboardSlots = 2 * 256 + 8;
// A worker that dies sooner than this after starting counts as a crash in a loop.
constexpr std::chrono::seconds kQuickDeath{2};
constexpr std::chrono::milliseconds kFirstBackoff{100};
// Grace between the hard-timeout signal (which answers 504 and exits) and SIGKILL.
constexpr std::chrono::seconds kTimeoutKillGrace{2};
// How long a reload waits for new workers to become ready before retiring old ones anyway.
constexpr std::chrono::seconds kReloadReadyWait{30};
// Exit status of a child whose work threw (EX_SOFTWARE).
constexpr int kExitUncaught = 70;

// A forked child's work: its exit status, or kExitUncaught (logged) when it throws. Nothing
// may unwind past the fork into the master's stack in the child.
template <typename Work>
int RunChild(Work&& work) {
  try {
    return work();
  } catch (const std::exception& e) {
    LogError(std::string("uncaught: ") + e.what());
  } catch (...) {
    LogError("uncaught exception");
  }
  return kExitUncaught;
}

struct WorkerInfo {
  int pid = 0;
  int slot = -1;
  int generation = 0;
  Clock::time_point spawned_at;
  bool retiring = false;  // asked to stop (reload or shutdown)
  bool timed_out = false;
  Clock::time_point timeout_signal_at;
};

class Master {
 public:
  Master(std::string config_path, Config config)
      : config_path_(std::move(config_path)),
        config_(std::make_unique<Config>(std::move(config))),
        scoreboard_(kScoreboardSlots) {}

  int Run();

 private:
  void SpawnWorker();
  void SpawnShipper();
  void SpawnMissing();
  void Reap();
  void StartReload();
  void FinishReloadIfReady();
  void StopAll(int signal);
  void CheckTimeouts();
  void Tick();
  int CurrentWorkers() const;

  std::string config_path_;
  std::unique_ptr<Config> config_;
  std::vector<std::unique_ptr<Config>> old_configs_;  // kept alive for children forked from them
  Scoreboard scoreboard_;
  ListenSocket socket_;
  std::map<int, WorkerInfo> workers_;
  int generation_ = 1;
  int master_pid_ = 0;
  int signal_fd_ = -1;

  // The log shipper: one process, restarted with a new config on reload.
  int shipper_pid_ = 0;
  bool shipper_retiring_ = false;
  Clock::time_point shipper_spawn_at_{};

  bool stopping_ = false;
  Clock::time_point stop_deadline_;
  bool reloading_ = false;
  Clock::time_point reload_started_;

  int crash_streak_ = 0;
  Clock::time_point next_spawn_at_{};
  bool ready_sent_ = false;
  uint64_t watchdog_usec_ = 0;
  Clock::time_point last_watchdog_{};
  Clock::time_point last_status_{};
};

int Master::CurrentWorkers() const {
  return static_cast<int>(std::count_if(workers_.begin(), workers_.end(), [&](const auto& w) {
    return w.second.generation == generation_ && !w.second.retiring;
  }));
}

void Master::SpawnWorker() {
  // The slot is claimed before the fork so the child knows it at once; its pid is filled in
  // right after.
  int slot = scoreboard_.Claim(-1, generation_);
  if (slot < 0) {
    LogError("scoreboard full; not starting another worker");
    next_spawn_at_ = Clock::now() + std::chrono::seconds(1);
    return;
  }
  int pid = fork();
  if (pid < 0) {
    LogError(std::string("fork: ") + std::strerror(errno));
    scoreboard_.Release(slot);
    next_spawn_at_ = Clock::now() + kFirstBackoff;
    return;
  }
  if (pid == 0) {
    close(signal_fd_);
    SetLogRole("worker");
    WorkerSetup setup{config_.get(), socket_.fd, &scoreboard_, slot, master_pid_};
    _exit(RunChild([&] { return RunWorker(setup); }));
  }
  scoreboard_.slot(slot).pid.store(pid);
  workers_[pid] = WorkerInfo{pid, slot, generation_, Clock::now(), false, false, {}};
}

void Master::SpawnShipper() {
  if (shipper_pid_ != 0 || stopping_ || Clock::now() < shipper_spawn_at_) return;
  int pid = fork();
  if (pid < 0) {
    LogError(std::string("fork: ") + std::strerror(errno));
    shipper_spawn_at_ = Clock::now() + std::chrono::seconds(1);
    return;
  }
  if (pid == 0) {
    close(signal_fd_);
    SetLogRole("log shipper");
    _exit(RunChild([&] { return RunShipperProcess(*config_, scoreboard_, master_pid_); }));
  }
  shipper_pid_ = pid;
  shipper_retiring_ = false;
}

void Master::SpawnMissing() {
  if (stopping_ || Clock::now() < next_spawn_at_) return;
  int want = EffectiveWorkers(*config_);
  while (CurrentWorkers() < want) {
    SpawnWorker();
    if (Clock::now() < next_spawn_at_) break;  // fork failed
  }
}

void Master::Reap() {
  while (true) {
    int status = 0;
    int pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (pid == shipper_pid_) {
      shipper_pid_ = 0;
      if (!shipper_retiring_ && !stopping_) {
        LogError("log shipper " + std::to_string(pid) + " died; restarting it in 1 s");
        shipper_spawn_at_ = Clock::now() + std::chrono::seconds(1);
      }
      continue;
    }
    auto it = workers_.find(pid);
    if (it == workers_.end()) continue;
    WorkerInfo info = it->second;
    workers_.erase(it);
    scoreboard_.Release(info.slot);
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    bool recycled = WIFEXITED(status) && WEXITSTATUS(status) == kExitRecycle;
    bool timed_out = info.timed_out || (WIFEXITED(status) && WEXITSTATUS(status) == kExitTimeout);
    if (info.retiring || stopping_) continue;
    if (info.generation != generation_) continue;
    if (recycled) {
      scoreboard_.header().recycles.fetch_add(1);
      continue;  // replaced by SpawnMissing at once
    }
    if (timed_out) continue;  // counted and logged when it was killed
    std::string how = WIFSIGNALED(status)
                          ? "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                                strsignal(WTERMSIG(status)) + ")"
                          : "exited with status " + std::to_string(WEXITSTATUS(status));
    if (clean) {
      LogInfo("worker " + std::to_string(pid) + " exited; replacing it");
      continue;
    }
    scoreboard_.header().restarts.fetch_add(1);
    if (Clock::now() - info.spawned_at < kQuickDeath) {
      ++crash_streak_;
    } else {
      crash_streak_ = 0;
    }
    auto backoff = std::chrono::milliseconds(0);
    if (crash_streak_ > 0) {
      auto max = std::chrono::milliseconds(config_->server.respawn_backoff_max_ms);
      backoff = std::min(max, kFirstBackoff * (1 << std::min(crash_streak_ - 1, 16)));
      next_spawn_at_ = Clock::now() + backoff;
    }
    LogError("worker " + std::to_string(pid) + " " + how + "; respawning" +
             (backoff.count() > 0 ? " in " + std::to_string(backoff.count()) + " ms" : ""));
    if (crash_streak_ >= 3) {
      LogError("workers are crashing in a loop: " + std::to_string(crash_streak_) +
               " died within " + std::to_string(kQuickDeath.count()) +
               " s of starting; backing off " + std::to_string(backoff.count()) + " ms");
    }
  }
}

void Master::StartReload() {
  LogInfo("reload: reading " + (config_path_.empty() ? std::string("defaults") : config_path_));
  std::unique_ptr<Config> fresh;
  try {
    fresh = std::make_unique<Config>(LoadConfig(config_path_, ScanlineEnvironment()));
  } catch (const std::exception& e) {
    LogError(std::string("reload refused, keeping the running configuration: ") + e.what());
    return;
  }
  if (fresh->server.listen != config_->server.listen) {
    LogWarning("reload: server.listen changed; the socket is kept until a restart");
  }
  sd_notify(0, "RELOADING=1\nSTATUS=reloading");
  old_configs_.push_back(std::move(config_));
  config_ = std::move(fresh);
  SetLogLevel(config_->log.level);
  ++generation_;
  scoreboard_.header().generation.store(generation_);
  crash_streak_ = 0;
  next_spawn_at_ = {};
  reloading_ = true;
  reload_started_ = Clock::now();
  SpawnMissing();
  if (shipper_pid_ != 0) {
    // Restarted with the new configuration once it has exited (it ships once more first).
    shipper_retiring_ = true;
    kill(shipper_pid_, SIGTERM);
  }
}

void Master::FinishReloadIfReady() {
  if (!reloading_) return;
  bool ready = true;
  for (const auto& [pid, info] : workers_) {
    if (info.generation != generation_) continue;
    auto state = static_cast<WorkerState>(scoreboard_.slot(info.slot).state.load());
    if (state == WorkerState::kStarting) ready = false;
  }
  if (!ready && Clock::now() - reload_started_ < kReloadReadyWait) return;
  int retired = 0;
  for (auto& [pid, info] : workers_) {
    if (info.generation == generation_ || info.retiring) continue;
    info.retiring = true;
    kill(pid, SIGTERM);
    ++retired;
  }
  reloading_ = false;
  LogInfo("reload: generation " + std::to_string(generation_) + " serving; " +
          std::to_string(retired) + " old workers finish their request and exit");
  sd_notify(0, "READY=1");
}

void Master::StopAll(int signal) {
  for (auto& [pid, info] : workers_) {
    info.retiring = true;
    kill(pid, signal);
  }
}

void Master::CheckTimeouts() {
  auto now = Clock::now();
  int64_t now_us = NowUs();
  int64_t limit_us = int64_t{config_->server.request_timeout_s} * 1'000'000;
  for (auto& [pid, info] : workers_) {
    ScoreboardSlot& slot = scoreboard_.slot(info.slot);
    if (info.timed_out) {
      if (now - info.timeout_signal_at > kTimeoutKillGrace) kill(pid, SIGKILL);
      continue;
    }
    if (static_cast<WorkerState>(slot.state.load()) != WorkerState::kBusy) continue;
    int64_t started = slot.request_started_at_us.load();
    if (started == 0 || now_us - started <= limit_us) continue;
    info.timed_out = true;
    info.timeout_signal_at = now;
    scoreboard_.header().timeouts.fetch_add(1);
    LogError("worker " + std::to_string(pid) + " passed the hard timeout of " +
             std::to_string(config_->server.request_timeout_s) + " s on request " +
             slot.request_id + " " + slot.method + " " + slot.uri + "; stopping it");
    kill(pid, SIGUSR2);
  }
}

void Master::Tick() {
  scoreboard_.header().listen_queue.store(ListenQueueLength(socket_));
  CheckTimeouts();
  auto now = Clock::now();
  if (watchdog_usec_ > 0 && now - last_watchdog_ > std::chrono::microseconds(watchdog_usec_ / 2)) {
    sd_notify(0, "WATCHDOG=1");
    last_watchdog_ = now;
  }
  if (now - last_status_ > std::chrono::seconds(2)) {
    PoolStatus p = scoreboard_.Snapshot();
    std::string status = "STATUS=" + std::to_string(p.active) + " busy, " + std::to_string(p.idle) +
                         " idle; " + std::to_string(p.accepted) + " requests served";
    sd_notify(0, status.c_str());
    last_status_ = now;
  }
  if (!ready_sent_) {
    bool any_ready = std::any_of(workers_.begin(), workers_.end(), [&](const auto& w) {
      return static_cast<WorkerState>(scoreboard_.slot(w.second.slot).state.load()) ==
             WorkerState::kIdle;
    });
    if (any_ready) {
      sd_notify(0, "READY=1");
      ready_sent_ = true;
      LogInfo("ready: " + std::to_string(workers_.size()) + " workers on " + socket_.description);
    }
  }
}

int Master::Run() {
  master_pid_ = getpid();
  SetLogRole("master");
  SetLogLevel(config_->log.level);
  try {
    socket_ = OpenListenSocket(config_->server.listen, config_->server.backlog,
                               config_->server.socket_mode);
  } catch (const std::exception& e) {
    LogError(e.what());
    return 1;
  }
  scoreboard_.header().backlog.store(config_->server.backlog);
  scoreboard_.header().generation.store(generation_);

  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT}) sigaddset(&mask, s);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal_fd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  int sfd = signal_fd_;
  signal(SIGPIPE, SIG_IGN);
  if (sd_watchdog_enabled(0, &watchdog_usec_) <= 0) watchdog_usec_ = 0;
  if (config_->server.watchdog_interval_s > 0) {
    watchdog_usec_ = static_cast<uint64_t>(config_->server.watchdog_interval_s) * 2'000'000;
  }

  LogInfo("starting " + std::to_string(EffectiveWorkers(*config_)) + " workers on " +
          socket_.description);
  SpawnMissing();
  SpawnShipper();

  while (true) {
    Tick();
    // Signals (a child's exit, a reload, a stop) wake the master at once; otherwise, once
    // ready, it looks at its workers (hard timeouts, the listen queue, the watchdog) once a
    // second: four times as often cost it 0.6 ms of CPU a second, taken from recognition.
    pollfd pfd{sfd, POLLIN, 0};
    poll(&pfd, 1, ready_sent_ && !reloading_ ? 1000 : 20);
    signalfd_siginfo info{};
    while (read(sfd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      switch (info.ssi_signo) {
        case SIGCHLD:
          break;  // reaped below
        case SIGHUP:
          if (!stopping_) StartReload();
          break;
        case SIGTERM:
        case SIGINT:
          if (stopping_) {
            LogWarning("second stop signal: stopping workers now");
            StopAll(SIGKILL);
          } else {
            LogInfo("stopping: workers finish their requests");
            sd_notify(0, "STOPPING=1");
            stopping_ = true;
            stop_deadline_ =
                Clock::now() + std::chrono::seconds(config_->server.graceful_timeout_s);
            StopAll(SIGTERM);
          }
          break;
        case SIGQUIT:
          LogInfo("quitting at once");
          sd_notify(0, "STOPPING=1");
          stopping_ = true;
          stop_deadline_ = Clock::now();
          StopAll(SIGKILL);
          if (shipper_pid_ != 0) kill(shipper_pid_, SIGKILL);
          break;
      }
    }
    Reap();
    if (stopping_) {
      if (workers_.empty() && shipper_pid_ != 0 && !shipper_retiring_) {
        // Workers are done: the shipper makes its last pass and exits.
        shipper_retiring_ = true;
        kill(shipper_pid_, SIGTERM);
        stop_deadline_ = Clock::now() + std::chrono::seconds(15);
      }
      if (workers_.empty() && shipper_pid_ == 0) break;
      if (Clock::now() > stop_deadline_) {
        if (!workers_.empty()) {
          LogWarning(std::to_string(workers_.size()) +
                     " workers still busy past the graceful timeout; killing them");
          StopAll(SIGKILL);
        } else if (shipper_pid_ != 0) {
          LogWarning("log shipper still running past its last pass; killing it");
          kill(shipper_pid_, SIGKILL);
        }
        stop_deadline_ = Clock::now() + std::chrono::seconds(5);
      }
      continue;
    }
    SpawnMissing();
    SpawnShipper();
    FinishReloadIfReady();
  }
  close(sfd);
  CloseListenSocket(socket_);
  LogInfo("stopped");
  return 0;
}

}  // namespace

int RunMaster(const std::string& config_path, Config config) {
  Master master(config_path, std::move(config));
  return master.Run();
}

int RunSingleProcess(const Config& config) {
  ListenSocket socket;
  try {
    socket =
        OpenListenSocket(config.server.listen, config.server.backlog, config.server.socket_mode);
  } catch (const std::exception& e) {
    LogError(e.what());
    return 1;
  }
  Scoreboard scoreboard(1);
  scoreboard.header().backlog.store(config.server.backlog);
  scoreboard.Claim(getpid(), 1);
  WorkerSetup setup{&config, socket.fd, &scoreboard, 0, 0};
  int status = RunWorker(setup);
  CloseListenSocket(socket);
  return status;
}

}  // namespace scanline
