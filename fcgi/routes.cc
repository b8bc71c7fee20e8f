// The route table: every endpoint of the pool, its method, handler and required scope, in
// one place. Order matters only for prefix routes (first match wins).
#include "fcgi/router.h"
#include "handlers/forms.h"
#include "handlers/health.h"
#include "handlers/lpr.h"
#include "handlers/ocr.h"
#include "handlers/pool_status.h"
#include "handlers/templates.h"
#include "handlers/whoami.h"

namespace scanline {

std::vector<Route> BuildRoutes(const Config& config) {
  std::vector<Route> routes = {
      {"GET", "/v1/health", HandleHealth, "", false},
      {"GET", "/v1/whoami", HandleWhoami, std::string(kAnyScope), false},
      {"POST", "/v1/whoami", HandleWhoami, std::string(kAnyScope), false},
      {"GET", config.server.status_path, HandleStatus, "", true},
      {"GET", config.server.metrics_path, HandleMetrics, "", true},
      {"POST", "/v1/ocr", HandleOcr, "ocr", false},
      {"POST", "/v1/lpr", HandleLpr, "lpr", false},
      {"POST", "/v1/forms/extract", HandleFormsExtract, "forms", false},
      {"POST", "/v1/forms/fill", HandleFormsFill, "forms", false},
      {"GET", "/v1/templates*", HandleTemplates, "templates:admin", false},
      {"POST", "/v1/templates*", HandleTemplates, "templates:admin", false},
  };
  return routes;
}

}  // namespace scanline
