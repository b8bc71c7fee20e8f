// Operational log (see core/log.h). A single write(2) per line keeps lines from several
// processes sharing stderr from interleaving.
#include "core/log.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <string>

namespace scanline {
namespace {

LogLevel g_level = LogLevel::kInfo;
std::string g_role;
const bool g_journal = std::getenv("JOURNAL_STREAM") != nullptr;

}  // namespace

void SetLogLevel(std::string_view level) {
  if (level == "debug")
    g_level = LogLevel::kDebug;
  else if (level == "warning")
    g_level = LogLevel::kWarning;
  else if (level == "error")
    g_level = LogLevel::kError;
  else
    g_level = LogLevel::kInfo;
}

void SetLogRole(std::string_view role) { g_role = role; }

void Log(LogLevel level, std::string_view message) {
  if (static_cast<int>(level) > static_cast<int>(g_level)) return;
  std::string line;
  line.reserve(message.size() + 64);
  if (g_journal) {
    line += "<" + std::to_string(static_cast<int>(level)) + ">";
  } else {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    line += stamp;
    const char* name = level == LogLevel::kError     ? "error "
                       : level == LogLevel::kWarning ? "warning "
                       : level == LogLevel::kDebug   ? "debug "
                                                     : "info ";
    line += name;
  }
  line += "[" + std::to_string(getpid()) + (g_role.empty() ? "" : " " + g_role) + "] ";
  line += message;
  line += '\n';
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace scanline
