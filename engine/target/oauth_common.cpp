// SPDX-License-Identifier: MIT
#include "engine/target/oauth_common.hpp"

#include <chrono>
#include <memory>

#include "engine/target/http_util.hpp"
#include "engine/target/mcp_protocol.hpp"
#include "engine/target/server_state.hpp"

namespace luaload::engine::target::oauth {
namespace {

using json = nlohmann::json;

constexpr uint64_t kFetchPollMs = 5;

std::vector<std::string_view> split_scopes(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    size_t space = list.find(' ');
    std::string_view item = list.substr(0, space);
    if (!item.empty()) out.push_back(item);
    if (space == std::string_view::npos) break;
    list.remove_prefix(space + 1);
  }
  return out;
}

bool has_scope(const std::vector<std::string_view>& granted, std::string_view one) {
  for (std::string_view g : granted) {
    if (g == one || (one == kReadScope && g == kWriteScope)) return true;
  }
  return false;
}

void poll_fetch(Responder& res, std::shared_ptr<DocumentFetcher::Fetch> pending,
                std::function<void(const DocumentFetcher::Fetch&)> done) {
  if (pending->done.load(std::memory_order_acquire)) return done(*pending);
  res.after(kFetchPollMs, [&res, pending = std::move(pending), done = std::move(done)]() mutable {
    poll_fetch(res, std::move(pending), std::move(done));
  });
}

}  // namespace

std::string base_url(const Request& req, const ServerState& state) {
  std::string scheme = state.options.tls_cert_file.empty() ? "http://" : "https://";
  const std::string* host = req.header("host");
  if (host != nullptr && !host->empty()) return scheme + *host;
  bool v6 = state.options.host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + state.options.host + "]" : state.options.host;
  return scheme + h + ":" + std::to_string(state.options.port);
}

std::string issuer_for(const Request& req, const ServerState& state) {
  return req.path().starts_with("/oauth/") ? base_url(req, state) + "/oauth" : base_url(req, state);
}

std::string protected_resource(const Request& req, const ServerState& state) {
  return base_url(req, state) + kProtectedPath;
}

std::string resource_metadata_url(const Request& req, const ServerState& state) {
  return base_url(req, state) + "/.well-known/oauth-protected-resource" + kProtectedPath;
}

bool is_our_issuer(const Request& req, const ServerState& state, std::string_view value) {
  while (value.ends_with("/")) value.remove_suffix(1);
  std::string base = base_url(req, state);
  return value == base || value == base + "/oauth";
}

void oauth_error(Responder& res, std::string_view error, std::string_view description, int status) {
  HeaderField headers[] = {{"Cache-Control", "no-store"},
                           {"Pragma", "no-cache"},
                           {"WWW-Authenticate", R"(Basic realm="luaload-target")"}};
  bool unauthorized = error == "invalid_client";
  if (status == 0) status = unauthorized ? 401 : 400;
  std::string body = mcp::dump({{"error", error}, {"error_description", description}});
  res.respond(status, "application/json", body, std::span<const HeaderField>(headers, status == 401 ? 3 : 2));
}

void send_json(Responder& res, int status, const json& body) {
  HeaderField headers[] = {{"Cache-Control", "no-store"}};
  res.respond(status, "application/json", mcp::dump(body), headers);
}

void send_tokens(Responder& res, const IssuedTokens& tokens, const std::string& scope, const json& extra) {
  json out = {{"access_token", tokens.access_token},
              {"token_type", "Bearer"},
              {"expires_in", tokens.expires_in_s},
              {"scope", scope}};
  if (!tokens.refresh_token.empty()) out["refresh_token"] = tokens.refresh_token;
  for (auto& [key, value] : extra.items()) out[key] = value;
  HeaderField headers[] = {{"Cache-Control", "no-store"}, {"Pragma", "no-cache"}};
  res.respond(200, "application/json", mcp::dump(out), headers);
}

bool scope_covers(std::string_view granted, std::string_view wanted) {
  auto have = split_scopes(granted);
  for (std::string_view one : split_scopes(wanted)) {
    if (!has_scope(have, one)) return false;
  }
  return true;
}

void fetch(Responder& res, ServerState& state, std::string url, std::function<void(const DocumentFetcher::Fetch&)> done) {
  poll_fetch(res, state.fetcher.start(std::move(url)), std::move(done));
}

void resolve_client(Responder& res, ServerState& state, const std::string& id,
                    std::function<void(std::optional<OAuthClient>, std::string)> done) {
  if (auto client = state.oauth_clients.find(id)) return done(std::move(client), "");
  if (!is_metadata_document_url(id)) return done(std::nullopt, "unknown client_id");
  fetch(res, state, id, [&state, id, done = std::move(done)](const DocumentFetcher::Fetch& f) {
    if (f.status != 200) {
      std::string why = f.status == 0 ? f.error : "HTTP " + std::to_string(f.status);
      return done(std::nullopt, "cannot fetch the client metadata document " + id + ": " + why);
    }
    std::string error;
    auto client = client_from_document(id, f.body, &error);
    if (!client) return done(std::nullopt, error);
    state.oauth_clients.remember_document(*client);
    done(std::move(client), "");
  });
}

int64_t unix_now_s() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace luaload::engine::target::oauth
