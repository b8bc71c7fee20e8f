// Listening socket setup and backlog measurement (see fcgi/listen_socket.h).
#include "fcgi/listen_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace scanline {
namespace {

[[noreturn]] void Fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

bool SomeoneListens(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  bool live = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return live;
}

ListenSocket OpenUnix(const std::string& path, int backlog, int mode) {
  ListenSocket s;
  s.is_unix = true;
  s.description = "unix:" + path;
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    Fail("listen " + s.description);
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      errno = EEXIST;
      Fail("listen " + s.description + " (a file that is not a socket is in the way)");
    }
    if (SomeoneListens(path)) {
      errno = EADDRINUSE;
      Fail("listen " + s.description + " (another process is serving it)");
    }
    unlink(path.c_str());
  }
  s.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s.fd < 0) Fail("socket");
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  // Create with the final mode: no window in which the socket is more open than configured.
  mode_t old = umask(static_cast<mode_t>(~mode & 0777));
  int rc = bind(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  umask(old);
  if (rc != 0) Fail("bind " + s.description);
  chmod(path.c_str(), static_cast<mode_t>(mode));
  if (listen(s.fd, backlog) != 0) Fail("listen " + s.description);
  s.unix_path = path;
  s.backlog = backlog;
  return s;
}

ListenSocket OpenTcp(const std::string& hostport, int backlog) {
  ListenSocket s;
  s.description = "tcp:" + hostport;
  size_t colon = hostport.rfind(':');
  std::string host = hostport.substr(0, colon);
  std::string port = hostport.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    throw std::runtime_error("listen " + s.description + ": " + gai_strerror(rc));
  }
  s.fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s.fd < 0) {
    freeaddrinfo(found);
    Fail("socket");
  }
  int one = 1;
  setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  rc = bind(s.fd, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  if (rc != 0) Fail("bind " + s.description);
  if (listen(s.fd, backlog) != 0) Fail("listen " + s.description);
  s.backlog = backlog;
  return s;
}

ListenSocket FromSystemd(int backlog) {
  int n = sd_listen_fds(1);
  if (n != 1) {
    throw std::runtime_error(
        "listen systemd: expected exactly one socket from systemd (LISTEN_FDS), got " +
        std::to_string(n < 0 ? 0 : n));
  }
  ListenSocket s;
  s.fd = SD_LISTEN_FDS_START;
  s.from_systemd = true;
  s.is_unix = sd_is_socket_unix(s.fd, SOCK_STREAM, 1, nullptr, 0) > 0;
  s.description = "systemd socket";
  s.backlog = backlog;
  fcntl(s.fd, F_SETFD, FD_CLOEXEC);
  return s;
}

int64_t UnixQueue(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return -1;
  int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return -1;
  struct {
    nlmsghdr header;
    unix_diag_req request;
  } message{};
  message.header.nlmsg_len = sizeof message;
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST;
  message.request.sdiag_family = AF_UNIX;
  message.request.udiag_states = 1u << 10;  // TCP_LISTEN
  message.request.udiag_ino = static_cast<__u32>(st.st_ino);
  message.request.udiag_show = UDIAG_SHOW_RQLEN;
  message.request.udiag_cookie[0] = message.request.udiag_cookie[1] = ~0u;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  int64_t result = -1;
  if (sendto(nl, &message, sizeof message, 0, reinterpret_cast<sockaddr*>(&kernel),
             sizeof kernel) == static_cast<ssize_t>(sizeof message)) {
    alignas(nlmsghdr) char buffer[8192];
    ssize_t len = recv(nl, buffer, sizeof buffer, 0);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); len > 0 && NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) break;
      auto* reply = static_cast<unix_diag_msg*>(NLMSG_DATA(h));
      int attr_len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *reply));
      for (auto* a = reinterpret_cast<rtattr*>(reply + 1); RTA_OK(a, attr_len);
           a = RTA_NEXT(a, attr_len)) {
        if (a->rta_type == UNIX_DIAG_RQLEN) {
          auto* rq = static_cast<unix_diag_rqlen*>(RTA_DATA(a));
          result = rq->udiag_rqueue;
        }
      }
    }
  }
  close(nl);
  return result;
}

}  // namespace

ListenSocket OpenListenSocket(const std::string& listen, int backlog, int socket_mode) {
  ListenSocket s;
  if (listen == "systemd") {
    s = FromSystemd(backlog);
  } else if (listen.starts_with("unix:")) {
    s = OpenUnix(listen.substr(5), backlog, socket_mode);
  } else if (listen.starts_with("tcp:")) {
    s = OpenTcp(listen.substr(4), backlog);
  } else {
    throw std::runtime_error("listen: unknown address '" + listen + "'");
  }
  SetNonBlocking(s.fd);
  return s;
}

int64_t ListenQueueLength(const ListenSocket& socket) {
  if (socket.fd < 0) return -1;
  if (socket.is_unix) return UnixQueue(socket.fd);
  tcp_info info{};
  socklen_t len = sizeof info;
  if (getsockopt(socket.fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return -1;
  return info.tcpi_unacked;  // for a listening socket: the accept queue length
}

void CloseListenSocket(ListenSocket& socket) {
  if (socket.fd >= 0) close(socket.fd);
  socket.fd = -1;
  if (!socket.unix_path.empty()) unlink(socket.unix_path.c_str());
  socket.unix_path.clear();
}

}  // namespace scanline
