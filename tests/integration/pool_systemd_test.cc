// The pool under systemd's protocols, without systemd: sd_notify messages read from a
// NOTIFY_SOCKET of our own, and socket activation through systemd-socket-activate (the
// systemd package's tool that passes a listening socket the way a .socket unit does).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "tests/integration/testbed.h"

namespace scanline::testing {
namespace {

class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  ~NotifySocket() { close(fd_); }

  // Collects messages until one contains `want` or the time is up; returns all of them.
  std::string WaitFor(const std::string& want, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, 50) <= 0) continue;
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      seen_ += std::string(buf, static_cast<size_t>(n)) + "\n";
      if (seen_.find(want) != std::string::npos) break;
    }
    return seen_;
  }
  void Clear() { seen_.clear(); }

 private:
  std::string path_;
  std::string seen_;
  int fd_ = -1;
};

// A GET through libfcgi's cgi-fcgi; "" when no answer comes within 10 s.
std::string FcgiGet(const std::string& socket, const std::string& uri) {
  std::string out;
  Shell("REQUEST_METHOD=GET REQUEST_URI=" + uri + " timeout 10 cgi-fcgi -bind -connect " + socket,
        &out);
  return out;
}

TEST(PoolSystemdTest, SpeaksSdNotify) {
  TempDir dir;
  NotifySocket notify(dir.path() + "/notify.sock");
  Process pool;
  std::string sock = dir.path() + "/pool.sock";
  pool.Start({std::string(SCANLINE_BINARY_DIR) + "/scanline-fcgi", "--no-migrate"},
             dir.path() + "/pool.log",
             {{"NOTIFY_SOCKET", dir.path() + "/notify.sock"},
              {"WATCHDOG_USEC", "1000000"},
              {"SCANLINE_SERVER_LISTEN", "unix:" + sock},
              {"SCANLINE_SERVER_WORKERS", "2"},
              {"SCANLINE_LOG_SPOOL_DIR", dir.path() + "/spool"},
              {"SCANLINE_REDIS_ADDRESS", "unix:" + dir.path() + "/none.sock"},
              {"SCANLINE_POSTGRES_CONNINFO", "host=" + dir.path() + " dbname=none"}});
  std::string seen = notify.WaitFor("READY=1", 5000);
  EXPECT_NE(seen.find("READY=1"), std::string::npos) << seen;
  seen = notify.WaitFor("WATCHDOG=1", 3000);
  EXPECT_NE(seen.find("WATCHDOG=1"), std::string::npos) << seen;
  seen = notify.WaitFor("STATUS=", 4000);
  EXPECT_NE(seen.find("idle"), std::string::npos) << seen;

  notify.Clear();
  kill(pool.pid(), SIGHUP);
  seen = notify.WaitFor("READY=1", 5000);
  size_t reloading = seen.find("RELOADING=1");
  ASSERT_NE(reloading, std::string::npos) << seen;
  EXPECT_NE(seen.find("READY=1", reloading), std::string::npos) << seen;
  EXPECT_NE(FcgiGet(sock, "/v1/health").find("\"checks\""), std::string::npos);

  notify.Clear();
  kill(pool.pid(), SIGTERM);
  seen = notify.WaitFor("STOPPING=1", 5000);
  EXPECT_NE(seen.find("STOPPING=1"), std::string::npos) << seen;
  int status = pool.Stop(0, 10000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(PoolSystemdTest, ServesTheSocketSystemdHandsOver) {
  TempDir dir;
  std::string sock = dir.path() + "/activated.sock";
  Process pool;
  pool.Start({"systemd-socket-activate", "-l", sock, "-E", "SCANLINE_SERVER_LISTEN=systemd", "-E",
              "SCANLINE_SERVER_WORKERS=2", "-E", "SCANLINE_LOG_SPOOL_DIR=" + dir.path() + "/spool",
              "-E", "SCANLINE_REDIS_ADDRESS=unix:" + dir.path() + "/none.sock", "-E",
              "SCANLINE_POSTGRES_CONNINFO=host=" + dir.path() + " dbname=none",
              std::string(SCANLINE_BINARY_DIR) + "/scanline-fcgi", "--no-migrate"},
             dir.path() + "/pool.log");
  // systemd-socket-activate starts the program on the first connection.
  std::string out;
  for (int i = 0; i < 50 && out.find("Status: 404") == std::string::npos; ++i) {
    out = FcgiGet(sock, "/v1/nope");
    if (out.find("Status: 404") == std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  EXPECT_NE(out.find("Status: 404"), std::string::npos)
      << out << ReadFile(dir.path() + "/pool.log");
  EXPECT_NE(ReadFile(dir.path() + "/pool.log").find("systemd socket"), std::string::npos);
  pool.Stop(SIGTERM, 10000);
}

TEST(PoolSystemdTest, SingleProcessModeServesWithoutAMaster) {
  TempDir dir;
  std::string sock = dir.path() + "/single.sock";
  Process pool;
  pool.Start(
      {std::string(SCANLINE_BINARY_DIR) + "/scanline-fcgi", "--no-migrate", "--single-process"},
      dir.path() + "/pool.log",
      {{"SCANLINE_SERVER_LISTEN", "unix:" + sock},
       {"SCANLINE_LOG_SPOOL_DIR", dir.path() + "/spool"},
       {"SCANLINE_REDIS_ADDRESS", "unix:" + dir.path() + "/none.sock"},
       {"SCANLINE_POSTGRES_CONNINFO", "host=" + dir.path() + " dbname=none"}});
  std::string out;
  for (int i = 0; i < 50 && out.find("Status: 503") == std::string::npos; ++i) {
    out = FcgiGet(sock, "/v1/health");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(out.find("Status: 503"), std::string::npos) << out;  // no PostgreSQL, no Redis
  EXPECT_NE(out.find("\"failed\":[\"postgres\",\"redis\"]"), std::string::npos) << out;
  int status = pool.Stop(SIGTERM, 5000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(PoolRecycleTest, WorkerIsReplacedAfterMaxRequests) {
  TempDir dir;
  std::string sock = dir.path() + "/pool.sock";
  Process pool;
  pool.Start({std::string(SCANLINE_BINARY_DIR) + "/scanline-fcgi", "--no-migrate"},
             dir.path() + "/pool.log",
             {{"SCANLINE_SERVER_LISTEN", "unix:" + sock},
              {"SCANLINE_SERVER_WORKERS", "1"},
              {"SCANLINE_SERVER_MAX_REQUESTS", "5"},
              {"SCANLINE_LOG_SPOOL_DIR", dir.path() + "/spool"},
              {"SCANLINE_REDIS_ADDRESS", "unix:" + dir.path() + "/none.sock"},
              {"SCANLINE_POSTGRES_CONNINFO", "host=" + dir.path() + " dbname=none"}});
  std::string out;
  for (int i = 0; i < 50 && out.find("Status: 404") == std::string::npos; ++i) {
    out = FcgiGet(sock, "/v1/nope");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (int i = 0; i < 11; ++i) {
    EXPECT_NE(FcgiGet(sock, "/v1/nope").find("Status: 404"), std::string::npos);
  }
  std::string status = FcgiGet(sock, "/status");
  EXPECT_NE(status.find("\"recycles\":2"), std::string::npos) << status;
  EXPECT_NE(status.find("\"restarts\":0"), std::string::npos) << status;
  EXPECT_NE(ReadFile(dir.path() + "/pool.log").find("served 5 requests; recycling"),
            std::string::npos);
  pool.Stop(SIGTERM, 10000);
}

}  // namespace
}  // namespace scanline::testing
