// The pool's listening socket: a unix socket or TCP address the master opens itself, or the
// one systemd hands over (socket activation). Opened by us, not FCGX_OpenSocket, which
// unlinks paths and calls exit() on failure. The socket is non-blocking: workers wait for it
// in epoll with a wake-up descriptor beside it, so a stop request never waits on accept().
#pragma once

#include <cstdint>
#include <string>

namespace scanline {

struct ListenSocket {
  int fd = -1;
  std::string unix_path;  // set when we created a unix socket (removed on stop)
  bool from_systemd = false;
  bool is_unix = false;
  int backlog = 0;
  std::string description;  // for logs
};

// Opens `listen` ("unix:PATH", "tcp:HOST:PORT", "systemd"). Throws std::runtime_error with a
// message naming the address. A stale unix socket file (nobody accepting) is replaced; a live
// one is an error.
ListenSocket OpenListenSocket(const std::string& listen, int backlog, int socket_mode);

// Connections waiting to be accepted, or -1 when the kernel does not tell.
int64_t ListenQueueLength(const ListenSocket& socket);

void CloseListenSocket(ListenSocket& socket);

}  // namespace scanline
