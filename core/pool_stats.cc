#include "core/pool_stats.h"

namespace scanline {

std::string_view WorkerStateName(WorkerState state) {
  switch (state) {
    case WorkerState::kStarting:
      return "starting";
    case WorkerState::kIdle:
      return "idle";
    case WorkerState::kBusy:
      return "busy";
    case WorkerState::kExiting:
      return "exiting";
  }
  return "unknown";
}

}  // namespace scanline
