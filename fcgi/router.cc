#include "fcgi/router.h"

namespace scanline {
namespace {

bool PathMatches(std::string_view pattern, std::string_view path) {
  if (pattern.ends_with('*')) return path.starts_with(pattern.substr(0, pattern.size() - 1));
  return pattern == path;
}

}  // namespace

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match match;
  for (const Route& route : routes_) {
    if (!PathMatches(route.path, path)) continue;
    if (route.method == method) {
      match.route = &route;
      return match;
    }
    if (match.allow.find(route.method) == std::string::npos) {
      match.allow += (match.allow.empty() ? "" : ", ") + route.method;
    }
  }
  return match;
}

}  // namespace scanline
