// The route table type and lookup. The table itself is in fcgi/routes.cc, in one place.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "handlers/context.h"

namespace scanline {

// Route::scope of a route that any valid signature may call, whatever its scopes.
inline constexpr std::string_view kAnyScope = "*";

struct Route {
  std::string method;  // "GET", "POST", ...
  std::string path;    // exact, or a prefix when it ends in '*' ("/v1/templates*")
  Handler handler;
  std::string scope;        // scope a signed caller needs; "" = no signature required;
                            // kAnyScope = a signature of any valid key
  bool local_only = false;  // only from loopback or a unix-socket peer (status, metrics)
};

class Router {
 public:
  explicit Router(std::vector<Route> routes) : routes_(std::move(routes)) {}

  struct Match {
    const Route* route = nullptr;  // null: 404 when `allow` is empty, else 405
    std::string allow;             // methods the path has, for the Allow header
  };
  Match Find(std::string_view method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// The pool's route table (fcgi/routes.cc).
std::vector<Route> BuildRoutes(const Config& config);

}  // namespace scanline
