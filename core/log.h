// Operational log lines on stderr, one line each, with a syslog priority prefix ("<4>") that
// journald turns into the entry's priority when the pool runs under systemd. Request logs are
// separate (core/request_log.h, PostgreSQL).
#pragma once

#include <string_view>

namespace scanline {

enum class LogLevel { kDebug = 7, kInfo = 6, kWarning = 4, kError = 3 };

// Lines below `level` are dropped. "debug", "info", "warning", "error".
void SetLogLevel(std::string_view level);
// Adds a role to every line ("master", "worker 3") after the pid.
void SetLogRole(std::string_view role);
// Prefix the priority for journald ("<6>") instead of a time stamp (default: on when
// JOURNAL_STREAM is set, i.e. stderr is connected to the journal).
void Log(LogLevel level, std::string_view message);

inline void LogInfo(std::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarning(std::string_view m) { Log(LogLevel::kWarning, m); }
inline void LogError(std::string_view m) { Log(LogLevel::kError, m); }
inline void LogDebug(std::string_view m) { Log(LogLevel::kDebug, m); }

}  // namespace scanline
