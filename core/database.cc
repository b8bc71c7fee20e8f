// PostgreSQL connection with lazy connect and reconnect (see core/database.h).
#include "core/database.h"

#include "core/detail/pg.h"

namespace scanline {

namespace {
// After a failed connect, wait this long before trying again, so a worker does not spend
// every request on connect timeouts while the server is down.
constexpr std::chrono::milliseconds kReconnectPause{500};
}  // namespace

pqxx::connection& Database::Impl::Connect() {
  if (connection && connection->is_open()) return *connection;
  connection.reset();
  auto now = std::chrono::steady_clock::now();
  if (now < retry_after) {
    throw Error(ErrorCode::kServiceUnavailable, "the database is unavailable",
                "postgres: waiting before the next reconnect");
  }
  try {
    connection = std::make_unique<pqxx::connection>(conninfo);
  } catch (const std::exception& e) {
    retry_after = now + kReconnectPause;
    throw Error(ErrorCode::kServiceUnavailable, "the database is unavailable",
                std::string("postgres connect: ") + e.what());
  }
  return *connection;
}

Database::Database(std::string conninfo, int connect_timeout_s)
    : conninfo_(std::move(conninfo)), impl_(std::make_unique<Impl>()) {
  impl_->conninfo = conninfo_;
  if (conninfo_.find("connect_timeout") == std::string::npos) {
    impl_->conninfo += " connect_timeout=" + std::to_string(connect_timeout_s);
  }
}

Database::~Database() = default;

std::string Database::Check() {
  try {
    WithConnection(*this, [](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec("SELECT 1");
      return 0;
    });
    return {};
  } catch (const Error& e) {
    return e.internal().empty() ? std::string(e.detail()) : e.internal();
  } catch (const std::exception& e) {
    impl_->Drop();
    return e.what();
  }
}

}  // namespace scanline
