// SPDX-License-Identifier: MIT
// MCP server features of the target: three tools, two resources, one prompt. Pure functions of the request.
#include "engine/target/mcp_methods.hpp"

#include <algorithm>

namespace luaload::engine::target::mcp {
namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxSlowDelayMs = 60'000;
constexpr const char* kReadme =
    "luaload target MCP endpoint. Tools: echo {text}, add {a, b}, slow {delay_ms}. Resources: luaload://readme, "
    "luaload://config. Prompt: greet {name}.";

json tool_text(const std::string& text, bool is_error = false) {
  json result = {{"content", json::array({{{"type", "text"}, {"text", text}}})}};
  if (is_error) result["isError"] = true;
  return result;
}

json tools_list() {
  auto schema = [](json properties, json required) {
    return json{{"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)}};
  };
  return {{"tools", json::array({
                        {{"name", "echo"},
                         {"description", "Returns the text it is given."},
                         {"inputSchema", schema({{"text", {{"type", "string"}}}}, {"text"})}},
                        {{"name", "add"},
                         {"description", "Adds two numbers."},
                         {"inputSchema", schema({{"a", {{"type", "number"}}}, {"b", {{"type", "number"}}}}, {"a", "b"})}},
                        {{"name", "slow"},
                         {"description", "Waits delay_ms milliseconds (at most 60000), reporting progress."},
                         {"inputSchema", schema({{"delay_ms", {{"type", "integer"}, {"minimum", 0}}}}, {"delay_ms"})}},
                    })}};
}

Reply call_tool(const json& id, const json& params) {
  if (!params.is_object() || !params.contains("name") || !params["name"].is_string()) {
    return {rpc_error(id, kInvalidParams, "tools/call needs a tool name")};
  }
  std::string name = params["name"];
  json args = params.value("arguments", json::object());
  if (!args.is_object()) args = json::object();
  if (name == "echo") {
    if (!args.contains("text") || !args["text"].is_string()) return {rpc_result(id, tool_text("text must be a string", true))};
    return {rpc_result(id, tool_text(args["text"].get<std::string>()))};
  }
  if (name == "add") {
    if (!args.contains("a") || !args.contains("b") || !args["a"].is_number() || !args["b"].is_number()) {
      return {rpc_result(id, tool_text("a and b must be numbers", true))};
    }
    double sum = args["a"].get<double>() + args["b"].get<double>();
    json sum_value = (args["a"].is_number_integer() && args["b"].is_number_integer())
                         ? json(args["a"].get<int64_t>() + args["b"].get<int64_t>())
                         : json(sum);
    json result = tool_text(sum_value.dump());
    result["structuredContent"] = {{"sum", sum_value}};
    return {rpc_result(id, std::move(result))};
  }
  if (name == "slow") {
    if (!args.contains("delay_ms") || !args["delay_ms"].is_number() || args["delay_ms"].get<double>() < 0) {
      return {rpc_result(id, tool_text("delay_ms must be a non-negative number", true))};
    }
    uint64_t delay = std::min<uint64_t>(static_cast<uint64_t>(args["delay_ms"].get<double>()), kMaxSlowDelayMs);
    json token = params.contains("_meta") && params["_meta"].is_object() ? params["_meta"].value("progressToken", json())
                                                                         : json();
    return {rpc_result(id, tool_text("waited " + std::to_string(delay) + " ms")), delay, token};
  }
  return {rpc_error(id, kInvalidParams, "unknown tool: " + name)};
}

json resources_list() {
  return {{"resources", json::array({
                            {{"uri", "luaload://readme"}, {"name", "readme"}, {"mimeType", "text/plain"}},
                            {{"uri", "luaload://config"}, {"name", "config"}, {"mimeType", "application/json"}},
                        })}};
}

Reply read_resource(const json& id, const json& params) {
  std::string uri = params.is_object() ? params.value("uri", "") : "";
  if (uri == "luaload://readme") {
    return {rpc_result(id, {{"contents", json::array({{{"uri", uri}, {"mimeType", "text/plain"}, {"text", kReadme}}})}})};
  }
  if (uri == "luaload://config") {
    json config = {{"server", "luaload-target"}, {"versions", kSupportedVersions}};
    return {rpc_result(
        id, {{"contents", json::array({{{"uri", uri}, {"mimeType", "application/json"}, {"text", config.dump()}}})}})};
  }
  json error = rpc_error(id, kResourceNotFound, "Resource not found");
  error["error"]["data"] = {{"uri", uri}};
  return {std::move(error)};
}

json prompts_list() {
  return {{"prompts", json::array({{{"name", "greet"},
                                    {"description", "Greets someone by name."},
                                    {"arguments", json::array({{{"name", "name"}, {"required", true}}})}}})}};
}

Reply get_prompt(const json& id, const json& params) {
  if (!params.is_object() || params.value("name", "") != "greet") {
    return {rpc_error(id, kInvalidParams, "unknown prompt")};
  }
  json args = params.value("arguments", json::object());
  if (!args.is_object() || !args.contains("name") || !args["name"].is_string()) {
    return {rpc_error(id, kInvalidParams, "missing required argument: name")};
  }
  std::string text = "Say hello to " + args["name"].get<std::string>() + ".";
  return {rpc_result(id, {{"description", "Greets someone by name."},
                          {"messages", json::array({{{"role", "user"},
                                                     {"content", {{"type", "text"}, {"text", text}}}}})}})};
}

}  // namespace

bool supported_version(const std::string& version) {
  return std::find(std::begin(kSupportedVersions), std::end(kSupportedVersions), version) !=
         std::end(kSupportedVersions);
}

json rpc_result(const json& id, json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json rpc_error(const json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

json initialize_result(const json& params, std::string* version) {
  std::string requested = params.is_object() ? params.value("protocolVersion", "") : "";
  *version = supported_version(requested) ? requested : kLatestVersion;
  return {{"protocolVersion", *version},
          {"capabilities", {{"tools", json::object()}, {"resources", json::object()}, {"prompts", json::object()}}},
          {"serverInfo", {{"name", "luaload-target"}, {"version", "0.1.0"}}},
          {"instructions", kReadme}};
}

Reply handle_request(const std::string& method, const json& id, const json& params) {
  if (method == "ping") return {rpc_result(id, json::object())};
  if (method == "tools/list") return {rpc_result(id, tools_list())};
  if (method == "tools/call") return call_tool(id, params);
  if (method == "resources/list") return {rpc_result(id, resources_list())};
  if (method == "resources/read") return read_resource(id, params);
  if (method == "prompts/list") return {rpc_result(id, prompts_list())};
  if (method == "prompts/get") return get_prompt(id, params);
  return {rpc_error(id, kMethodNotFound, "Method not found: " + method)};
}

}  // namespace luaload::engine::target::mcp
