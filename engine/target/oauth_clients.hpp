// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace luaload::engine::target {

// A client of the target's authorization server: the built-in `luaload` client, one registered with Dynamic Client
// Registration (RFC 7591), or one whose client_id is the URL of its Client ID Metadata Document.
struct OAuthClient {
  std::string id;
  std::string secret;       // client_secret_basic / client_secret_post only
  std::string auth_method;  // client_secret_basic | client_secret_post | none | private_key_jwt
  bool any_secret_method = false;  // the built-in client: Basic or the form, whichever the request uses
  std::vector<std::string> redirect_uris;  // empty: any (the built-in client)
  nlohmann::json jwks;      // private_key_jwt: {"keys":[...]} given inline
  std::string jwks_uri;     // private_key_jwt: where the keys are (fetched when needed)
  std::string scope;        // registered scope, may be empty
  bool metadata_document = false;
  int64_t fetched_at_ms = 0;  // metadata documents: when the document was fetched (monotonic)

  // RFC 8252 §7.3: a loopback redirect URI matches whatever port the client picked at run time.
  bool allows_redirect(std::string_view uri) const;
};

// True when `client_id` is a Client ID Metadata Document URL the target will fetch: https:// with a path, or, for
// tests on one machine, http:// on a loopback host (127.0.0.1, localhost, [::1]).
bool is_metadata_document_url(std::string_view client_id);

// Builds a client from the fetched document of `url`: valid JSON whose client_id equals the URL exactly, with
// client_name and redirect_uris. nullopt with *error naming the problem otherwise.
std::optional<OAuthClient> client_from_document(const std::string& url, const std::string& body, std::string* error);

// The clients of one target server, shared by every thread behind one mutex. Registered clients are bounded
// (kMaxClients; registering beyond evicts an arbitrary one); metadata documents are cached kDocumentTtlMs.
class OAuthClients {
 public:
  static constexpr size_t kMaxClients = 10'000;
  static constexpr int64_t kDocumentTtlMs = 5 * 60 * 1000;
  static constexpr const char* kBuiltinId = "luaload";
  static constexpr const char* kBuiltinSecret = "secret";

  OAuthClients();

  // RFC 7591 §3.2: the registered client and the response body, or nullopt with *error set to an RFC 7591 §3.2.2
  // error code (invalid_client_metadata, invalid_redirect_uri) and *description.
  std::optional<nlohmann::json> register_client(const nlohmann::json& metadata, std::string* error,
                                                std::string* description);
  // A known client: built-in, registered, or a metadata document fetched less than kDocumentTtlMs ago.
  std::optional<OAuthClient> find(const std::string& id);
  void remember_document(OAuthClient client);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, OAuthClient> clients_;
  std::unordered_map<std::string, OAuthClient> documents_;
};

}  // namespace luaload::engine::target
