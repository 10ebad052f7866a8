// SPDX-License-Identifier: MIT
#include "engine/target/oauth_clients.hpp"

#include <algorithm>
#include <chrono>
#include <variant>

#include "engine/core/clock.hpp"
#include "engine/target/http_util.hpp"

namespace luaload::engine::target {
namespace {

using json = nlohmann::json;

constexpr const char* kAuthMethods[] = {"client_secret_basic", "client_secret_post", "none", "private_key_jwt"};

int64_t now_ms() { return core::mono_now_ns() / 1'000'000; }

int64_t unix_s() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

bool loopback(std::string_view host) { return host == "127.0.0.1" || host == "localhost" || host == "[::1]"; }

struct UrlParts {
  std::string_view scheme, host, port, path;
};

// scheme://host[:port]/path... (no userinfo); nullopt for anything else.
std::optional<UrlParts> split_url(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  UrlParts parts{url.substr(0, sep), {}, {}, {}};
  std::string_view rest = url.substr(sep + 3);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  parts.path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  size_t colon = authority.starts_with("[") ? authority.find("]:") + 1 : authority.rfind(':');
  if (colon != std::string_view::npos && colon != 0) {
    parts.host = authority.substr(0, colon);
    parts.port = authority.substr(colon + 1);
  } else {
    parts.host = authority;
  }
  return parts;
}

std::vector<std::string> string_list(const json& value) {
  std::vector<std::string> out;
  if (!value.is_array()) return out;
  for (const json& item : value) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

bool valid_auth_method(const std::string& method) {
  for (const char* m : kAuthMethods) {
    if (method == m) return true;
  }
  return false;
}

}  // namespace

bool OAuthClient::allows_redirect(std::string_view uri) const {
  if (redirect_uris.empty()) return !metadata_document && any_secret_method;
  for (const std::string& registered : redirect_uris) {
    if (registered == uri) return true;
    auto a = split_url(registered);
    auto b = split_url(uri);
    if (a && b && a->scheme == "http" && loopback(a->host) && a->scheme == b->scheme && a->host == b->host &&
        a->path == b->path) {
      return true;
    }
  }
  return false;
}

bool is_metadata_document_url(std::string_view client_id) {
  auto parts = split_url(client_id);
  if (!parts || parts->path.size() < 2) return false;
  return parts->scheme == "https" || (parts->scheme == "http" && loopback(parts->host));
}

std::optional<OAuthClient> client_from_document(const std::string& url, const std::string& body, std::string* error) {
  json doc = json::parse(body, nullptr, false);
  if (!doc.is_object()) return *error = "the client metadata document is not a JSON object", std::nullopt;
  if (doc.value("client_id", "") != url) {
    return *error = "the document's client_id does not match its URL " + url, std::nullopt;
  }
  if (!doc.contains("client_name") || !doc["client_name"].is_string()) {
    return *error = "the client metadata document has no client_name", std::nullopt;
  }
  OAuthClient client;
  client.id = url;
  client.metadata_document = true;
  client.redirect_uris = string_list(doc.value("redirect_uris", json()));
  if (client.redirect_uris.empty()) return *error = "the client metadata document has no redirect_uris", std::nullopt;
  client.auth_method = doc.value("token_endpoint_auth_method", "none");
  if (client.auth_method != "none" && client.auth_method != "private_key_jwt") {
    // A document is public: it cannot carry a shared secret.
    return *error = "a metadata document client must use none or private_key_jwt", std::nullopt;
  }
  client.jwks = doc.value("jwks", json());
  client.jwks_uri = doc.value("jwks_uri", "");
  client.scope = doc.value("scope", "");
  client.fetched_at_ms = now_ms();
  return client;
}

OAuthClients::OAuthClients() {
  OAuthClient builtin;
  builtin.id = kBuiltinId;
  builtin.secret = kBuiltinSecret;
  builtin.auth_method = "client_secret_basic";
  builtin.any_secret_method = true;
  clients_[builtin.id] = std::move(builtin);
}

namespace {

struct Rejection {
  const char* error;
  std::string description;
};

// RFC 7591 §2 metadata -> a client (id and secret not yet assigned), or why it cannot be registered.
std::variant<OAuthClient, Rejection> client_from_metadata(const json& metadata, std::vector<std::string>* grants) {
  if (!metadata.is_object()) return Rejection{"invalid_client_metadata", "the body must be a JSON object"};
  OAuthClient client;
  client.redirect_uris = string_list(metadata.value("redirect_uris", json()));
  *grants = string_list(metadata.value("grant_types", json::array({"authorization_code"})));
  bool needs_redirect = std::find(grants->begin(), grants->end(), "authorization_code") != grants->end();
  if (needs_redirect && client.redirect_uris.empty()) return Rejection{"invalid_redirect_uri", "redirect_uris is required"};
  for (const std::string& uri : client.redirect_uris) {
    if (!split_url(uri)) return Rejection{"invalid_redirect_uri", "not an absolute URI: " + uri};
  }
  client.auth_method = metadata.value("token_endpoint_auth_method", "client_secret_basic");
  if (!valid_auth_method(client.auth_method)) {
    return Rejection{"invalid_client_metadata", "unsupported token_endpoint_auth_method " + client.auth_method};
  }
  client.jwks = metadata.value("jwks", json());
  client.jwks_uri = metadata.value("jwks_uri", "");
  if (client.auth_method == "private_key_jwt" && client.jwks.is_null() && client.jwks_uri.empty()) {
    return Rejection{"invalid_client_metadata", "private_key_jwt needs jwks or jwks_uri"};
  }
  client.scope = metadata.value("scope", "");
  return client;
}

// RFC 7591 §3.2.1: the metadata as registered, plus the credentials.
json registration_response(const json& metadata, const OAuthClient& client, const std::vector<std::string>& grants) {
  json response = metadata;
  response["client_id"] = client.id;
  response["client_id_issued_at"] = unix_s();
  response["token_endpoint_auth_method"] = client.auth_method;
  response["grant_types"] = grants;
  if (!client.secret.empty()) {
    response["client_secret"] = client.secret;
    response["client_secret_expires_at"] = 0;
  }
  return response;
}

}  // namespace

std::optional<json> OAuthClients::register_client(const json& metadata, std::string* error, std::string* description) {
  std::vector<std::string> grants;
  auto built = client_from_metadata(metadata, &grants);
  if (auto* rejection = std::get_if<Rejection>(&built)) {
    *error = rejection->error;
    *description = std::move(rejection->description);
    return std::nullopt;
  }
  OAuthClient client = std::move(std::get<OAuthClient>(built));
  client.id = random_token(16);
  if (client.auth_method == "client_secret_basic" || client.auth_method == "client_secret_post") {
    client.secret = random_token(24);
  }
  json response = registration_response(metadata, client, grants);
  std::lock_guard lock(mutex_);
  if (clients_.size() >= kMaxClients) {
    auto victim = clients_.begin();
    if (victim->first == kBuiltinId) ++victim;
    clients_.erase(victim);
  }
  clients_[client.id] = std::move(client);
  return response;
}

std::optional<OAuthClient> OAuthClients::find(const std::string& id) {
  std::lock_guard lock(mutex_);
  if (auto it = clients_.find(id); it != clients_.end()) return it->second;
  auto doc = documents_.find(id);
  if (doc == documents_.end()) return std::nullopt;
  if (now_ms() - doc->second.fetched_at_ms > kDocumentTtlMs) {
    documents_.erase(doc);
    return std::nullopt;
  }
  return doc->second;
}

void OAuthClients::remember_document(OAuthClient client) {
  std::lock_guard lock(mutex_);
  if (documents_.size() >= kMaxClients) documents_.erase(documents_.begin());
  documents_[client.id] = std::move(client);
}

}  // namespace luaload::engine::target
