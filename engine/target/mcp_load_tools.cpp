// SPDX-License-Identifier: MIT
// The load-test features of the target: three tools, two resources, one prompt. These are the hot path: each answer
// is built directly, with no lookup beyond a few string compares.
#include <algorithm>

#include "engine/target/mcp_catalog.hpp"

namespace luaload::engine::target::mcp {
namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxSlowDelayMs = 60'000;
constexpr int kProgressSteps = 4;

json object_schema(json properties, json required) {
  return {{"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)}};
}

Reply echo(const Call& call) {
  auto it = call.arguments.find("text");
  if (it == call.arguments.end() || !it->is_string()) return rpc_result(call.id, tool_text("text must be a string", true));
  return rpc_result(call.id, tool_text(it->get<std::string>()));
}

Reply add(const Call& call) {
  const json& args = call.arguments;
  if (!args.contains("a") || !args.contains("b") || !args["a"].is_number() || !args["b"].is_number()) {
    return rpc_result(call.id, tool_text("a and b must be numbers", true));
  }
  json sum = (args["a"].is_number_integer() && args["b"].is_number_integer())
                 ? json(args["a"].get<int64_t>() + args["b"].get<int64_t>())
                 : json(args["a"].get<double>() + args["b"].get<double>());
  json result = tool_text(sum.dump());
  result["structuredContent"] = {{"sum", sum}};
  return rpc_result(call.id, std::move(result));
}

// Waits delay_ms on the transport's timer. With a progressToken and a streaming transport, the wait is cut into
// kProgressSteps parts, each preceded by a notifications/progress.
Reply slow(const Call& call) {
  auto it = call.arguments.find("delay_ms");
  if (it == call.arguments.end() || !it->is_number() || it->get<double>() < 0) {
    return rpc_result(call.id, tool_text("delay_ms must be a non-negative number", true));
  }
  uint64_t delay = std::min<uint64_t>(static_cast<uint64_t>(it->get<double>()), kMaxSlowDelayMs);
  Reply reply(rpc_result(call.id, tool_text("waited " + std::to_string(delay) + " ms")));
  json token = call.params.contains("_meta") && call.params["_meta"].is_object()
                   ? call.params["_meta"].value("progressToken", json())
                   : json();
  if (token.is_null() || !call.ctx.can_stream) {
    if (delay > 0) reply.steps.push_back({Step::Kind::Wait, nullptr, delay, nullptr});
    return reply;
  }
  uint64_t interval = delay / kProgressSteps;
  for (int step = 0; step < kProgressSteps; ++step) {
    json params = {{"progressToken", token}, {"progress", step}, {"total", kProgressSteps}};
    reply.steps.push_back({Step::Kind::Send, notification("notifications/progress", std::move(params)), 0, nullptr});
    uint64_t wait = step + 1 == kProgressSteps ? delay - interval * (kProgressSteps - 1) : interval;
    reply.steps.push_back({Step::Kind::Wait, nullptr, wait, nullptr});
  }
  return reply;
}

Reply text_resource(const Call& call, const char* mime, const std::string& text) {
  return rpc_result(call.id,
                    {{"contents", json::array({{{"uri", call.name}, {"mimeType", mime}, {"text", text}}})}});
}

}  // namespace

const char* const kInstructions =
    "luaload target MCP endpoint. Tools: echo {text}, add {a, b}, slow {delay_ms}. Resources: luaload://readme, "
    "luaload://config. Prompt: greet {name}.";

void append_load_tools(json* tools) {
  tools->push_back({{"name", "echo"},
                    {"description", "Returns the text it is given."},
                    {"inputSchema", object_schema({{"text", {{"type", "string"}}}}, {"text"})}});
  tools->push_back(
      {{"name", "add"},
       {"description", "Adds two numbers."},
       {"inputSchema", object_schema({{"a", {{"type", "number"}}}, {"b", {{"type", "number"}}}}, {"a", "b"})}});
  tools->push_back(
      {{"name", "slow"},
       {"description", "Waits delay_ms milliseconds (at most 60000), reporting progress."},
       {"inputSchema", object_schema({{"delay_ms", {{"type", "integer"}, {"minimum", 0}}}}, {"delay_ms"})}});
}

std::optional<Reply> call_load_tool(const Call& call) {
  if (call.name == "echo") return echo(call);
  if (call.name == "add") return add(call);
  if (call.name == "slow") return slow(call);
  return std::nullopt;
}

void append_load_resources(json* resources) {
  resources->push_back({{"uri", "luaload://readme"}, {"name", "readme"}, {"mimeType", "text/plain"}});
  resources->push_back({{"uri", "luaload://config"}, {"name", "config"}, {"mimeType", "application/json"}});
}

std::optional<Reply> read_load_resource(const Call& call) {
  if (call.name == "luaload://readme") return text_resource(call, "text/plain", kInstructions);
  if (call.name == "luaload://config") {
    json config = {{"server", kServerName}, {"versions", json::array()}};
    for (const char* v : kModernVersions) config["versions"].push_back(v);
    for (const char* v : kLegacyVersions) config["versions"].push_back(v);
    return text_resource(call, "application/json", config.dump());
  }
  return std::nullopt;
}

void append_load_prompts(json* prompts) {
  prompts->push_back({{"name", "greet"},
                      {"description", "Greets someone by name."},
                      {"arguments", json::array({{{"name", "name"}, {"required", true}}})}});
}

std::optional<Reply> get_load_prompt(const Call& call) {
  if (call.name != "greet") return std::nullopt;
  auto it = call.arguments.find("name");
  if (it == call.arguments.end() || !it->is_string()) {
    return rpc_error(call.id, kInvalidParams, "missing required argument: name");
  }
  std::string text = "Say hello to " + it->get<std::string>() + ".";
  return rpc_result(call.id, {{"description", "Greets someone by name."},
                              {"messages", json::array({{{"role", "user"},
                                                         {"content", {{"type", "text"}, {"text", text}}}}})}});
}

}  // namespace luaload::engine::target::mcp
