// SPDX-License-Identifier: MIT
// Method dispatch for both eras: lifecycle (initialize, server/discover), lists, calls, legacy session methods and
// the modern result envelope. The features themselves live in the mcp_*_tools.cpp / mcp_*_content.cpp files.
#include "engine/target/mcp_methods.hpp"

#include "engine/target/http_util.hpp"
#include "engine/target/mcp_catalog.hpp"

namespace luaload::engine::target::mcp {
namespace {

using json = nlohmann::json;

json server_info() { return {{"name", kServerName}, {"version", kServerVersion}}; }

json capabilities() {
  return {{"tools", {{"listChanged", true}}},
          {"resources", {{"subscribe", true}, {"listChanged", true}}},
          {"prompts", {{"listChanged", true}}},
          {"logging", json::object()},
          {"completions", json::object()}};
}

Reply method_not_found(const json& id, const std::string& method, const Context& ctx) {
  return {rpc_error(id, kMethodNotFound, "Method not found: " + method), ctx.era == Era::Modern ? 404 : 200};
}

json tools_list(const Server& server) {
  json tools = json::array();
  append_load_tools(&tools);
  if (server.list_fixtures) {
    append_fixture_tools(&tools);
    append_mrtr_tools(&tools);
  }
  return {{"tools", std::move(tools)}};
}

json resources_list(const Server& server) {
  json resources = json::array();
  append_load_resources(&resources);
  if (server.list_fixtures) append_fixture_resources(&resources);
  return {{"resources", std::move(resources)}};
}

json templates_list(const Server& server) {
  json templates = json::array();
  if (server.list_fixtures) append_fixture_templates(&templates);
  return {{"resourceTemplates", std::move(templates)}};
}

json prompts_list(const Server& server) {
  json prompts = json::array();
  append_load_prompts(&prompts);
  if (server.list_fixtures) {
    append_fixture_prompts(&prompts);
    append_mrtr_prompts(&prompts);
  }
  return {{"prompts", std::move(prompts)}};
}

const json& arguments_of(const json& params) {
  auto it = params.find("arguments");
  return it != params.end() && it->is_object() ? *it : empty_object();
}

std::string string_param(const json& params, const char* key) {
  auto it = params.find(key);
  return it != params.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Reply call_tool(Server& server, const Context& ctx, const json& id, const json& params) {
  std::string name = string_param(params, "name");
  if (name.empty()) return rpc_error(id, kInvalidParams, "tools/call needs a tool name");
  Call call{server, ctx, id, params, arguments_of(params), name};
  if (auto reply = call_load_tool(call)) return std::move(*reply);
  if (auto reply = call_fixture_tool(call)) return std::move(*reply);
  if (auto reply = call_mrtr_tool(call)) return std::move(*reply);
  return rpc_error(id, kInvalidParams, "unknown tool: " + name);
}

Reply read_resource(Server& server, const Context& ctx, const json& id, const json& params) {
  std::string uri = string_param(params, "uri");
  Call call{server, ctx, id, params, empty_object(), uri};
  if (auto reply = read_load_resource(call)) return std::move(*reply);
  if (auto reply = read_fixture_resource(call)) return std::move(*reply);
  // 2026-07-28 moved "resource not found" from -32002 to -32602 (SEP-2164); both carry the uri.
  int code = ctx.era == Era::Modern ? kInvalidParams : kResourceNotFound;
  return rpc_error(id, code, "Resource not found: " + uri, {{"uri", uri}});
}

Reply get_prompt(Server& server, const Context& ctx, const json& id, const json& params) {
  std::string name = string_param(params, "name");
  Call call{server, ctx, id, params, arguments_of(params), name};
  if (auto reply = get_load_prompt(call)) return std::move(*reply);
  if (auto reply = get_fixture_prompt(call)) return std::move(*reply);
  if (auto reply = get_mrtr_prompt(call)) return std::move(*reply);
  return rpc_error(id, kInvalidParams, "unknown prompt: " + name);
}

Reply discover(const json& id) {
  json result = {{"supportedVersions", json::array()}, {"capabilities", capabilities()}, {"instructions", kInstructions}};
  for (const char* v : kModernVersions) result["supportedVersions"].push_back(v);
  return rpc_result(id, std::move(result));
}

// subscriptions/listen: the acknowledgment first, then a Listen step. The acknowledged filter is the subset of the
// requested one that this server delivers (all of it: every list can change, every resource can be updated).
Reply listen(const json& id, const json& params) {
  json requested = params.value("notifications", json::object());
  json honored = json::object();
  if (requested.is_object()) {
    for (const char* flag : {"toolsListChanged", "promptsListChanged", "resourcesListChanged"}) {
      if (requested.value(flag, false) == true) honored[flag] = true;
    }
    auto uris = requested.find("resourceSubscriptions");
    if (uris != requested.end() && uris->is_array()) honored["resourceSubscriptions"] = *uris;
  }
  json ack = notification("notifications/subscriptions/acknowledged",
                          {{"_meta", {{kMetaSubscriptionId, id}}}, {"notifications", honored}});
  Reply reply;
  reply.steps.push_back({Step::Kind::Send, std::move(ack), 0, nullptr});
  reply.steps.push_back({Step::Kind::Listen, {{"id", id}, {"notifications", std::move(honored)}}, 0, nullptr});
  return reply;
}

Reply legacy_only(const std::string& method, const json& id, const json& params, const Context& ctx) {
  if (method == "ping") return rpc_result(id, json::object());
  if (method == "logging/setLevel") {
    std::string level = string_param(params, "level");
    if (log_level_rank(level) < 0) return rpc_error(id, kInvalidParams, "unknown log level: " + level);
    Reply reply(rpc_result(id, json::object()));
    reply.set_log_level = level;
    return reply;
  }
  if (method == "resources/subscribe" || method == "resources/unsubscribe") {
    std::string uri = string_param(params, "uri");
    if (uri.empty()) return rpc_error(id, kInvalidParams, method + " needs a uri");
    Reply reply(rpc_result(id, json::object()));
    reply.subscription_changes.emplace_back(uri, method == "resources/subscribe");
    return reply;
  }
  return method_not_found(id, method, ctx);
}

Reply dispatch(Server& server, const std::string& method, const json& id, const json& params, const Context& ctx) {
  if (method == "tools/call") return call_tool(server, ctx, id, params);
  if (method == "tools/list") return rpc_result(id, tools_list(server));
  if (method == "resources/read") return read_resource(server, ctx, id, params);
  if (method == "resources/list") return rpc_result(id, resources_list(server));
  if (method == "resources/templates/list") return rpc_result(id, templates_list(server));
  if (method == "prompts/get") return get_prompt(server, ctx, id, params);
  if (method == "prompts/list") return rpc_result(id, prompts_list(server));
  if (method == "completion/complete") return complete({server, ctx, id, params, empty_object(), method});
  if (ctx.era == Era::Legacy) return legacy_only(method, id, params, ctx);
  if (method == "server/discover") return discover(id);
  if (method == "subscriptions/listen") return listen(id, params);
  return method_not_found(id, method, ctx);
}

bool cacheable(const std::string& method) {
  return method == "server/discover" || method == "tools/list" || method == "prompts/list" ||
         method == "resources/list" || method == "resources/templates/list" || method == "resources/read";
}

// The modern result envelope: resultType, the server's identity in _meta, and caching hints on complete results of
// cacheable methods (resources/read results are private: they may depend on who reads; lists are public).
void finish_modern(const Server& server, const std::string& method, const json& params, Reply* reply) {
  auto result = reply->response.find("result");
  if (reply->response.is_null() || result == reply->response.end() || !result->is_object()) return;
  if (!result->contains("resultType")) (*result)["resultType"] = "complete";
  (*result)["_meta"][kMetaServerInfo] = server_info();
  bool retried = params.contains("inputResponses") || params.contains("requestState");
  if ((*result)["resultType"] == "complete" && cacheable(method) && !retried) {
    (*result)["ttlMs"] = server.cache_ttl_ms;
    (*result)["cacheScope"] = method == "resources/read" ? "private" : "public";
  }
}

}  // namespace

Server::Server() : state_key(random_token(32)) {}

std::shared_ptr<const json> Context::no_capabilities() {
  static const auto none = std::make_shared<const json>(json::object());
  return none;
}

const json& empty_object() {
  static const json empty = json::object();
  return empty;
}

json tool_text(const std::string& text, bool is_error) {
  json result = {{"content", json::array({{{"type", "text"}, {"text", text}}})}};
  if (is_error) result["isError"] = true;
  return result;
}

Reply initialize(const Server&, const json& message, Context* session) {
  const json& params = message.contains("params") && message["params"].is_object() ? message["params"] : empty_object();
  std::string requested = string_param(params, "protocolVersion");
  session->era = Era::Legacy;
  session->protocol_version = is_legacy_version(requested) ? requested : kLatestLegacyVersion;
  auto caps = params.find("capabilities");
  session->client_capabilities = caps != params.end() && caps->is_object() ? std::make_shared<const json>(*caps)
                                                                          : Context::no_capabilities();
  return rpc_result(message["id"], {{"protocolVersion", session->protocol_version},
                                    {"capabilities", capabilities()},
                                    {"serverInfo", server_info()},
                                    {"instructions", kInstructions}});
}

std::optional<Reply> open_modern(const json& message, Context* ctx) {
  const json& id = message["id"];
  auto params = message.find("params");
  const json* meta = nullptr;
  if (params != message.end() && params->is_object()) {
    auto it = params->find("_meta");
    if (it != params->end() && it->is_object()) meta = &*it;
  }
  auto missing = [&](const char* what) {
    return Reply(rpc_error(id, kInvalidParams, std::string("Invalid params: _meta is missing ") + what,
                           {{"envelope", {{"missing", json::array({what})}}}}),
                 400);
  };
  if (meta == nullptr) return missing("_meta");
  auto version = meta->find(kMetaProtocolVersion);
  if (version == meta->end() || !version->is_string()) return missing(kMetaProtocolVersion);
  auto caps = meta->find(kMetaClientCapabilities);
  if (caps == meta->end() || !caps->is_object()) return missing(kMetaClientCapabilities);
  if (!is_modern_version(version->get<std::string>())) {
    json data = {{"supported", json::array()}, {"requested", *version}};
    for (const char* v : kModernVersions) data["supported"].push_back(v);
    return Reply(rpc_error(id, kUnsupportedVersion, "Unsupported protocol version: " + version->get<std::string>(),
                           std::move(data)),
                 400);
  }
  ctx->era = Era::Modern;
  ctx->protocol_version = version->get<std::string>();
  ctx->client_capabilities = std::make_shared<const json>(*caps);
  auto level = meta->find(kMetaLogLevel);
  ctx->log_level = level != meta->end() && level->is_string() ? level->get<std::string>() : std::string();
  return std::nullopt;
}

Reply handle_request(Server& server, const json& message, const Context& ctx) {
  const std::string& method = message["method"].get_ref<const std::string&>();
  auto it = message.find("params");
  const json& params = it != message.end() && it->is_object() ? *it : empty_object();
  Reply reply = dispatch(server, method, message["id"], params, ctx);
  if (ctx.era == Era::Modern) finish_modern(server, method, params, &reply);
  return reply;
}

json listen_notification(const json& listen, const ChangeEvent& event) {
  const json& filter = listen["notifications"];
  const char* method = nullptr;
  json params = json::object();
  switch (event.kind) {
    case ChangeEvent::Kind::ToolsListChanged:
      if (filter.value("toolsListChanged", false)) method = "notifications/tools/list_changed";
      break;
    case ChangeEvent::Kind::PromptsListChanged:
      if (filter.value("promptsListChanged", false)) method = "notifications/prompts/list_changed";
      break;
    case ChangeEvent::Kind::ResourcesListChanged:
      if (filter.value("resourcesListChanged", false)) method = "notifications/resources/list_changed";
      break;
    case ChangeEvent::Kind::ResourceUpdated: {
      auto uris = filter.find("resourceSubscriptions");
      if (uris == filter.end() || std::find(uris->begin(), uris->end(), json(event.uri)) == uris->end()) break;
      method = "notifications/resources/updated";
      params["uri"] = event.uri;
      break;
    }
  }
  if (method == nullptr) return nullptr;
  params["_meta"][kMetaSubscriptionId] = listen["id"];
  return notification(method, std::move(params));
}

json listen_closed(const json& listen) {
  return rpc_result(listen["id"], {{"resultType", "complete"},
                                   {"_meta", {{kMetaSubscriptionId, listen["id"]}, {kMetaServerInfo, server_info()}}}});
}

json legacy_change_notification(const ChangeEvent& event, bool subscribed) {
  switch (event.kind) {
    case ChangeEvent::Kind::ToolsListChanged:
      return notification("notifications/tools/list_changed", json::object());
    case ChangeEvent::Kind::PromptsListChanged:
      return notification("notifications/prompts/list_changed", json::object());
    case ChangeEvent::Kind::ResourcesListChanged:
      return notification("notifications/resources/list_changed", json::object());
    case ChangeEvent::Kind::ResourceUpdated:
      if (!subscribed) return nullptr;
      return notification("notifications/resources/updated", {{"uri", event.uri}});
  }
  return nullptr;
}

}  // namespace luaload::engine::target::mcp
