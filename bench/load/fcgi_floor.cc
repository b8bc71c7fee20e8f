// The protocol's floor for bench/load: the smallest libfcgi responder there is. N processes
// share one socket and answer every request with a fixed body in a blocking accept loop, as
// libfcgi's examples do. Nothing of scanline runs here.
//
//   fcgi_floor SOCKET_PATH PROCESSES
#include <fcgiapp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fcgi_floor SOCKET_PATH PROCESSES\n");
    return 2;
  }
  unlink(argv[1]);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 256) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  chmod(argv[1], 0666);
  int processes = std::atoi(argv[2]);
  FCGX_Init();
  for (int i = 0; i < processes; ++i) {
    if (fork() == 0) {
      FCGX_Request request;
      FCGX_InitRequest(&request, fd, 0);
      static const char kReply[] =
          "Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n"
          "{\"status\":\"ok\"}\n";
      while (FCGX_Accept_r(&request) >= 0) {
        FCGX_PutStr(kReply, sizeof kReply - 1, request.out);
        FCGX_Finish_r(&request);
      }
      _exit(0);
    }
  }
  signal(SIGTERM, [](int) {
    kill(0, SIGKILL);
    _exit(0);
  });
  while (wait(nullptr) > 0) {
  }
  return 0;
}
