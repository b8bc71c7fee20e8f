// `scanline keys`: the operator's tool for API keys (core/api_keys.h).
//
//   scanline keys create --name NAME --scopes ocr,lpr [--rpm N] [--daily N] [--json]
//   scanline keys list [--json]
//   scanline keys rotate KEY_ID [--json]
//   scanline keys drop-previous KEY_ID
//   scanline keys revoke KEY_ID
//   scanline keys new-master-key PATH
//
// A secret is printed once, when created or rotated; scanline keeps it only sealed. The
// commands read the same configuration as the pool (--config) for the database and the
// master key (auth.master_key_file, else $CREDENTIALS_DIRECTORY/master.key).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <CLI/CLI.hpp>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <memory>
#include <string>

#include "core/api_keys.h"
#include "core/crypto.h"
#include "core/database.h"
#include "core/error.h"
#include "tools/commands.h"

namespace scanline {
namespace {

struct KeysOptions {
  ApiClientSpec spec;
  std::string scopes;
  std::string key_id;
  std::string path;
  bool json = false;
};

// Runs `fn(store, config)` with the configured database and master key; reports errors the
// way `scanline migrate` does and exits 1.
template <typename Fn>
void WithStore(Fn&& fn) {
  Config config = CliConfig();
  try {
    MasterKey master_key = LoadMasterKey(MasterKeyPath(config.auth));
    Database database(config.postgres.conninfo, config.postgres.connect_timeout_s);
    ApiKeyStore store(database, master_key, config.auth.key_cache_ms,
                      config.auth.key_grace_s * 1000);
    fn(store, config);
  } catch (const Error& e) {
    std::cerr << "scanline keys: " << e.detail();
    if (!e.internal().empty()) std::cerr << ": " << e.internal();
    std::cerr << "\n";
    throw CLI::RuntimeError(1);
  }
}

std::string Time(int64_t unix_seconds) {
  if (unix_seconds == 0) return "-";
  std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M", &tm);
  return buffer;
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

void PrintIssued(const IssuedKey& issued, const Config& config, bool json, bool rotated) {
  if (json) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    writer.Key("key_id");
    writer.String(issued.key_id.c_str());
    writer.Key("secret");
    writer.String(issued.secret.c_str());
    writer.Key("region");
    writer.String(config.auth.region.c_str());
    writer.Key("service");
    writer.String(config.auth.service.c_str());
    writer.EndObject();
    std::cout << buffer.GetString() << "\n";
    return;
  }
  std::cout << "key id:  " << issued.key_id << "\n"
            << "secret:  " << issued.secret << "\n\n"
            << "The secret is shown only now; scanline keeps it encrypted and cannot show it "
               "again.\n";
  if (rotated) {
    std::cout << "The previous secret keeps working until the next rotation or `scanline keys "
                 "drop-previous "
              << issued.key_id << "`.\n";
  }
  std::cout << "Sign requests with AWS Signature Version 4, e.g.:\n"
            << "  curl --aws-sigv4 'aws:amz:" << config.auth.region << ":" << config.auth.service
            << "' --user '" << issued.key_id << ":" << issued.secret
            << "' \\\n       -H 'Content-Type: image/png' --data-binary @page.png "
               "'https://HOST/v1/ocr'\n";
}

void PrintList(const std::vector<ApiClient>& clients, bool json) {
  if (json) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartArray();
    for (const ApiClient& c : clients) {
      writer.StartObject();
      writer.Key("key_id");
      writer.String(c.key_id.c_str());
      writer.Key("name");
      writer.String(c.name.c_str());
      writer.Key("scopes");
      writer.StartArray();
      for (const std::string& s : c.scopes) writer.String(s.c_str());
      writer.EndArray();
      writer.Key("rate_per_minute");
      writer.Int64(c.rate_per_minute);
      writer.Key("daily_quota");
      writer.Int64(c.daily_quota);
      writer.Key("status");
      writer.String(c.revoked ? "revoked" : "active");
      writer.Key("rotation_in_progress");
      writer.Bool(c.has_previous_secret);
      writer.Key("created_at");
      writer.Int64(c.created_at);
      writer.Key("rotated_at");
      writer.Int64(c.rotated_at);
      writer.Key("revoked_at");
      writer.Int64(c.revoked_at);
      writer.Key("last_used_at");
      writer.Int64(c.last_used_at);
      writer.EndObject();
    }
    writer.EndArray();
    std::cout << buffer.GetString() << "\n";
    return;
  }
  std::cout << std::left << std::setw(22) << "KEY ID" << std::setw(9) << "STATUS" << std::setw(28)
            << "SCOPES" << std::setw(8) << "RPM" << std::setw(9) << "DAILY" << std::setw(18)
            << "CREATED (UTC)" << std::setw(18) << "LAST USED"
            << "NAME\n";
  for (const ApiClient& c : clients) {
    std::string status = c.revoked ? "revoked" : (c.has_previous_secret ? "rotating" : "active");
    std::cout << std::setw(22) << c.key_id << std::setw(9) << status << std::setw(28)
              << Joined(c.scopes) << std::setw(8)
              << (c.rate_per_minute ? std::to_string(c.rate_per_minute) : "-") << std::setw(9)
              << (c.daily_quota ? std::to_string(c.daily_quota) : "-") << std::setw(18)
              << Time(c.created_at) << std::setw(18) << Time(c.last_used_at) << c.name << "\n";
  }
}

}  // namespace

void AddKeysCommand(CLI::App& app) {
  auto options = std::make_shared<KeysOptions>();
  auto* keys = app.add_subcommand("keys", "manage API keys (SigV4 access keys)");
  keys->require_subcommand(1);

  auto* create = keys->add_subcommand("create", "create a key and print its secret once");
  create->add_option("--name", options->spec.name, "who the key is for")->required();
  create
      ->add_option("--scopes", options->scopes,
                   "comma-separated: ocr, lpr, forms, templates:admin, status")
      ->required();
  create->add_option("--rpm", options->spec.rate_per_minute, "requests per minute, 0 = no limit");
  create->add_option("--daily", options->spec.daily_quota, "requests per UTC day, 0 = no limit");
  create->add_flag("--json", options->json, "print {key_id, secret, region, service} as JSON");
  create->callback([options] {
    options->spec.scopes = SplitScopes(options->scopes);
    WithStore([&](ApiKeyStore& store, const Config& config) {
      PrintIssued(store.Create(options->spec), config, options->json, false);
    });
  });

  auto* list = keys->add_subcommand("list", "list keys (never their secrets)");
  list->add_flag("--json", options->json, "print JSON");
  list->callback([options] {
    WithStore([&](ApiKeyStore& store, const Config&) { PrintList(store.List(), options->json); });
  });

  auto* rotate = keys->add_subcommand(
      "rotate", "issue a new secret; the current one stays valid until the next rotation");
  rotate->add_option("key_id", options->key_id, "key id")->required();
  rotate->add_flag("--json", options->json, "print JSON");
  rotate->callback([options] {
    WithStore([&](ApiKeyStore& store, const Config& config) {
      PrintIssued(store.Rotate(options->key_id), config, options->json, true);
    });
  });

  auto* drop = keys->add_subcommand("drop-previous",
                                    "stop accepting the secret replaced by the last rotation");
  drop->add_option("key_id", options->key_id, "key id")->required();
  drop->callback([options] {
    WithStore([&](ApiKeyStore& store, const Config&) {
      std::cout << (store.DropPreviousSecret(options->key_id) ? "previous secret dropped\n"
                                                              : "no previous secret to drop\n");
    });
  });

  auto* revoke = keys->add_subcommand(
      "revoke", "revoke a key for good (every worker refuses it within auth.key_cache_ms)");
  revoke->add_option("key_id", options->key_id, "key id")->required();
  revoke->callback([options] {
    WithStore([&](ApiKeyStore& store, const Config& config) {
      if (store.Revoke(options->key_id)) {
        std::cout << "revoked " << options->key_id << "; refused everywhere within "
                  << config.auth.key_cache_ms << " ms\n";
      } else {
        std::cout << options->key_id << " was already revoked\n";
      }
    });
  });

  auto* master = keys->add_subcommand(
      "new-master-key", "write a new random master key file (mode 0600) for development");
  master->add_option("path", options->path, "file to create (never overwritten)")->required();
  master->callback([options] {
    try {
      WriteNewMasterKey(options->path);
    } catch (const Error& e) {
      std::cerr << "scanline keys: " << e.internal() << "\n";
      throw CLI::RuntimeError(1);
    }
    std::cout << "wrote " << options->path << "\n";
  });
}

}  // namespace scanline
