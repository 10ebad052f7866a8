// SPDX-License-Identifier: MIT
// The modern era (2026-07-28) on /mcp: stateless requests carrying the _meta envelope, validated against the
// request metadata headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Param-*) before dispatch.
#include <charconv>

#include "engine/target/http_util.hpp"
#include "engine/target/mcp_http.hpp"
#include "engine/target/server_state.hpp"

namespace luaload::engine::target::mcp_http {
namespace {

using json = nlohmann::json;

const json& empty_object() {
  static const json empty = json::object();
  return empty;
}

// The member `key` of `object` when it is an object, else an empty object (no copies: this runs on every request).
const json& object_member(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : empty_object();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A header value as the sender meant it: trimmed (RFC 9110 OWS) and, for the Base64 sentinel form
// "=?base64?...?=", decoded. nullopt when the sentinel does not decode.
std::optional<std::string> header_value(std::string_view raw) {
  raw = trim(raw);
  constexpr std::string_view kPrefix = "=?base64?", kSuffix = "?=";
  if (raw.size() < kPrefix.size() + kSuffix.size() || !raw.starts_with(kPrefix) || !raw.ends_with(kSuffix)) {
    return std::string(raw);
  }
  std::string_view encoded = raw.substr(kPrefix.size(), raw.size() - kPrefix.size() - kSuffix.size());
  if (encoded.size() % 4 != 0) return std::nullopt;  // padding is mandatory in the sentinel form
  return base64_decode(encoded);
}

// True when the header text stands for the JSON value (strings as-is, integers numerically, booleans as words).
bool header_matches(const std::string& text, const json& value) {
  if (value.is_string()) return text == value.get_ref<const std::string&>();
  if (value.is_boolean()) return text == (value.get<bool>() ? "true" : "false");
  if (value.is_number()) {
    double parsed = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    return ec == std::errc() && ptr == text.data() + text.size() && parsed == value.get<double>();
  }
  return false;
}

struct Mismatch {
  std::string message;
};

std::optional<Mismatch> check_name(const Request& req, const std::string& method, const json& params) {
  const char* field = method == "resources/read" ? "uri" : (method == "tools/call" || method == "prompts/get") ? "name" : nullptr;
  if (field == nullptr) return std::nullopt;
  auto body = params.find(field);
  if (body == params.end() || !body->is_string()) return std::nullopt;
  const std::string* raw = req.header("mcp-name");
  if (raw == nullptr) return Mismatch{"Header mismatch: Mcp-Name header is required for " + method};
  auto value = header_value(*raw);
  if (!value || *value != body->get_ref<const std::string&>()) {
    return Mismatch{"Header mismatch: Mcp-Name header value '" + *raw + "' does not match body value '" +
                    body->get<std::string>() + "'"};
  }
  return std::nullopt;
}

// Mcp-Param-{Name} against arguments for the tool's x-mcp-header parameters: a value in the body needs its header,
// a header needs the same value in the body.
std::optional<Mismatch> check_params(const Request& req, const json& params) {
  auto name = params.find("name");
  if (name == params.end() || !name->is_string()) return std::nullopt;
  const auto& declared = mcp::tool_header_params(name->get_ref<const std::string&>());
  if (declared.empty()) return std::nullopt;
  const json& args = object_member(params, "arguments");
  for (const mcp::HeaderParam& p : declared) {
    std::string header_name = "mcp-param-" + p.header;
    for (char& c : header_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string* raw = req.header(header_name);
    auto value = args.find(p.property);
    bool in_body = value != args.end() && !value->is_null();
    if (!in_body && raw == nullptr) continue;
    if (raw == nullptr) return Mismatch{"Header mismatch: Mcp-Param-" + p.header + " is required"};
    auto decoded = header_value(*raw);
    if (!in_body || !decoded || !header_matches(*decoded, *value)) {
      return Mismatch{"Header mismatch: Mcp-Param-" + p.header + " does not match arguments." + p.property};
    }
  }
  return std::nullopt;
}

// The header/body cross-checks of the request metadata (-32020 HeaderMismatch, HTTP 400).
std::optional<Mismatch> check_headers(const Request& req, const json& message, const mcp::Context& ctx) {
  const std::string* version = req.header("mcp-protocol-version");
  if (version == nullptr) return Mismatch{"Header mismatch: MCP-Protocol-Version header is required"};
  if (trim(*version) != ctx.protocol_version) {
    return Mismatch{"Header mismatch: MCP-Protocol-Version " + *version + " does not match _meta " +
                    ctx.protocol_version};
  }
  const std::string& method = message["method"].get_ref<const std::string&>();
  const std::string* method_header = req.header("mcp-method");
  if (method_header == nullptr) return Mismatch{"Header mismatch: Mcp-Method header is required"};
  if (trim(*method_header) != method) {
    return Mismatch{"Header mismatch: Mcp-Method " + *method_header + " does not match body method " + method};
  }
  const json& params = object_member(message, "params");
  if (auto m = check_name(req, method, params)) return m;
  if (method == "tools/call") return check_params(req, params);
  return std::nullopt;
}

// A claimed version in _meta that the header contradicts is a HeaderMismatch even before the envelope is read.
bool version_contradicted(const Request& req, const json& message) {
  const std::string* header = req.header("mcp-protocol-version");
  if (header == nullptr || !message.contains("params") || !message["params"].is_object()) return false;
  const json& params = message["params"];
  if (!params.contains("_meta") || !params["_meta"].is_object()) return false;
  auto claimed = params["_meta"].find(mcp::kMetaProtocolVersion);
  return claimed != params["_meta"].end() && claimed->is_string() && *claimed != std::string(trim(*header));
}

}  // namespace

void serve_modern(const Request& req, Responder& res, ServerState& state, const json& message) {
  if (!message.contains("id")) return res.respond(202, "", "");  // no client notifications are defined over HTTP
  const json& id = message["id"];
  if (version_contradicted(req, message)) {
    return rpc_failure(res, 400, id, mcp::kHeaderMismatch,
                       "Header mismatch: MCP-Protocol-Version does not match _meta protocolVersion");
  }
  Accepts a = accepts(req);
  mcp::Context ctx;
  ctx.can_stream = can_stream(a, state.options.mcp_sse);
  ctx.can_ask = false;
  if (auto error = mcp::open_modern(message, &ctx)) {
    return answer(res, state, std::move(*error), {});
  }
  if (auto mismatch = check_headers(req, message, ctx)) {
    return rpc_failure(res, 400, id, mcp::kHeaderMismatch, mismatch->message);
  }
  mcp::Reply reply = mcp::handle_request(state.mcp_server, message, ctx);
  Stream stream;
  stream.sse = choose_sse(a, state.options.mcp_sse, reply);
  bool listens = !reply.steps.empty() && reply.steps.back().kind == mcp::Step::Kind::Listen;
  if (listens && !stream.sse) {
    return rpc_failure(res, 406, id, -32000, "Not Acceptable: subscriptions/listen answers with text/event-stream");
  }
  answer(res, state, std::move(reply), std::move(stream));
}

}  // namespace luaload::engine::target::mcp_http
