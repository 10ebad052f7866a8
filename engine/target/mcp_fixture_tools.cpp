// SPDX-License-Identifier: MIT
// Fixture tools: the ones the official conformance suite's server scenarios call (test_*, named as the suite
// names them), plus luaload's own feature fixtures (server requests for roots, list-change triggers, an
// x-mcp-header tool). Kept apart from the load-test tools: they are looked up only after echo/add/slow.
#include <string_view>

#include "engine/target/mcp_catalog.hpp"

namespace luaload::engine::target::mcp {
namespace {

using json = nlohmann::json;

// A 1x1 red PNG and a minimal WAV: small, valid payloads for the image/audio content scenarios.
constexpr const char* kPng =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
constexpr const char* kWav = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

using Handler = Reply (*)(const Call&);

struct Tool {
  const char* name;
  const char* description;
  json (*schema)();
  Handler handler;
};

json no_args() { return {{"type", "object"}, {"properties", json::object()}}; }

json one_string(const char* name, const char* description) {
  return {{"type", "object"},
          {"properties", {{name, {{"type", "string"}, {"description", description}}}}},
          {"required", json::array({name})}};
}

Reply content(const Call& call, json items) { return rpc_result(call.id, {{"content", std::move(items)}}); }

Reply simple_text(const Call& call) { return rpc_result(call.id, tool_text("This is a simple text response for testing.")); }
Reply image(const Call& call) {
  return content(call, json::array({{{"type", "image"}, {"data", kPng}, {"mimeType", "image/png"}}}));
}
Reply audio(const Call& call) {
  return content(call, json::array({{{"type", "audio"}, {"data", kWav}, {"mimeType", "audio/wav"}}}));
}
Reply embedded(const Call& call) {
  json resource = {{"uri", "test://embedded-resource"},
                   {"mimeType", "text/plain"},
                   {"text", "This is an embedded resource content."}};
  return content(call, json::array({{{"type", "resource"}, {"resource", std::move(resource)}}}));
}
Reply mixed(const Call& call) {
  json resource = {{"uri", "test://mixed-content-resource"},
                   {"mimeType", "application/json"},
                   {"text", R"({"test":"data","value":123})"}};
  return content(call, json::array({{{"type", "text"}, {"text", "Multiple content types test:"}},
                                    {{"type", "image"}, {"data", kPng}, {"mimeType", "image/png"}},
                                    {{"type", "resource"}, {"resource", std::move(resource)}}}));
}
Reply error_result(const Call& call) {
  return rpc_result(call.id, tool_text("This tool intentionally returns an error for testing", true));
}

Step send(json message) { return {Step::Kind::Send, std::move(message), 0, nullptr}; }
Step wait(uint64_t ms) { return {Step::Kind::Wait, nullptr, ms, nullptr}; }

json log_message(const char* text) {
  return notification("notifications/message",
                      {{"level", "info"}, {"logger", kServerName}, {"data", text}});
}

// Three info-level messages 50 ms apart, then the result; messages only when the request's (modern) or session's
// (legacy) log level lets info through.
Reply with_logging(const Call& call) {
  Reply reply(rpc_result(call.id, tool_text("Tool with logging executed successfully")));
  bool log = log_level_allows(call.ctx.log_level, "info");
  const char* texts[] = {"Tool execution started", "Tool processing data", "Tool execution completed"};
  for (int i = 0; i < 3; ++i) {
    if (log) reply.steps.push_back(send(log_message(texts[i])));
    if (i < 2) reply.steps.push_back(wait(50));
  }
  return reply;
}

// One log message (when allowed), then the result: for the modern "no log without logLevel" check.
Reply logging_probe(const Call& call) {
  Reply reply(rpc_result(call.id, tool_text("Logging evaluated")));
  if (log_level_allows(call.ctx.log_level, "info")) reply.steps.push_back(send(log_message("Diagnostic trace")));
  return reply;
}

json progress_token(const Call& call) {
  auto meta = call.params.find("_meta");
  return meta != call.params.end() && meta->is_object() ? meta->value("progressToken", json()) : json();
}

json progress(const json& token, int value, const char* message) {
  return notification("notifications/progress",
                      {{"progressToken", token}, {"progress", value}, {"total", 100}, {"message", message}});
}

// Progress 0, 50, 100 (50 ms apart) when the request carries a progressToken; the result text is the token.
Reply with_progress(const Call& call) {
  json token = progress_token(call);
  Reply reply(rpc_result(call.id, tool_text(token.is_null() ? "no progress token" : token.is_string() ? token.get<std::string>() : token.dump())));
  if (token.is_null()) {
    reply.steps = {wait(50), wait(50)};
    return reply;
  }
  reply.steps = {send(progress(token, 0, "Completed step 0 of 100")), wait(50),
                 send(progress(token, 50, "Completed step 50 of 100")), wait(50),
                 send(progress(token, 100, "Completed step 100 of 100"))};
  return reply;
}

// A progress notification (when asked for) and the result: the modern "no independent requests on the stream" check.
Reply streaming_probe(const Call& call) {
  Reply reply(rpc_result(call.id, tool_text("Streaming complete")));
  json token = progress_token(call);
  if (!token.is_null()) reply.steps.push_back(send(progress(token, 50, "halfway")));
  return reply;
}

// Resumable streams (2025-11-25): the server closes the POST stream right after the priming event; the rest (an
// optional progress notification and the result) comes once the client reconnects with GET + Last-Event-ID.
Reply reconnection(const Call& call) {
  Reply reply(rpc_result(call.id, tool_text("Reconnection test completed successfully. If you received this, the "
                                            "client properly reconnected after stream closure.")));
  json token = progress_token(call);
  if (!token.is_null()) reply.steps.push_back(send(progress(token, 50, "before the stream closed")));
  reply.steps.push_back({Step::Kind::Suspend, nullptr, 0, nullptr});
  reply.steps.push_back(wait(100));
  if (!token.is_null()) reply.steps.push_back(send(progress(token, 100, "after the client resumed")));
  return reply;
}

json sampling_text(const json& result) {
  std::string text = "No response";
  if (result.contains("content") && result["content"].is_object()) text = result["content"].value("text", text);
  return tool_text("LLM response: " + text);
}

json elicitation_text(const json& result) {
  return tool_text("User response: action=" + result.value("action", std::string("?")) +
                   ", content=" + result.value("content", json::object()).dump());
}

json elicitation_completed(const json& result) {
  return tool_text("Elicitation completed: action=" + result.value("action", std::string("?")) +
                   ", content=" + result.value("content", json::object()).dump());
}

json roots_text(const json& result) {
  size_t n = result.contains("roots") && result["roots"].is_array() ? result["roots"].size() : 0;
  return tool_text("Found " + std::to_string(n) + " root(s)");
}

std::string argument(const Call& call, const char* key, const char* fallback) {
  auto it = call.arguments.find(key);
  return it != call.arguments.end() && it->is_string() ? it->get<std::string>() : fallback;
}

Reply sampling(const Call& call) {
  json message = {{"role", "user"},
                  {"content", {{"type", "text"}, {"text", argument(call, "prompt", "Say something.")}}}};
  json request = {{"method", "sampling/createMessage"},
                  {"params", {{"messages", json::array({message})}, {"maxTokens", 100}}}};
  return ask_client(call, "sampling", "sampling", std::move(request), sampling_text);
}

json elicit(std::string message, json properties, json required) {
  return {{"method", "elicitation/create"},
          {"params",
           {{"message", std::move(message)},
            {"requestedSchema",
             {{"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)}}}}}};
}

Reply elicitation(const Call& call) {
  json properties = {{"response", {{"type", "string"}, {"description", "User's response"}}}};
  json request = elicit(argument(call, "message", "Please respond"), std::move(properties), {"response"});
  return ask_client(call, "elicitation", "elicitation", std::move(request), elicitation_text);
}

// SEP-1034: a default for every primitive type.
Reply elicitation_defaults(const Call& call) {
  json properties = {
      {"name", {{"type", "string"}, {"description", "User name"}, {"default", "John Doe"}}},
      {"age", {{"type", "integer"}, {"description", "User age"}, {"default", 30}}},
      {"score", {{"type", "number"}, {"description", "User score"}, {"default", 95.5}}},
      {"status",
       {{"type", "string"}, {"description", "User status"}, {"enum", {"active", "inactive", "pending"}},
        {"default", "active"}}},
      {"verified", {{"type", "boolean"}, {"description", "Verification status"}, {"default", true}}}};
  json request = elicit("Please review and update the form fields with defaults", std::move(properties),
                        json::array());
  return ask_client(call, "elicitation", "elicitation", std::move(request), elicitation_completed);
}

json titled(const char* prefix) {
  return json::array({{{"const", "value1"}, {"title", std::string("First ") + prefix}},
                      {{"const", "value2"}, {"title", std::string("Second ") + prefix}},
                      {{"const", "value3"}, {"title", std::string("Third ") + prefix}}});
}

// SEP-1330: the five enum shapes (untitled and titled single-select, legacy enumNames, untitled and titled multi).
Reply elicitation_enums(const Call& call) {
  json options = {"option1", "option2", "option3"};
  json properties = {
      {"untitledSingle", {{"type", "string"}, {"description", "Select one option"}, {"enum", options}}},
      {"titledSingle", {{"type", "string"}, {"description", "Select one option with titles"}, {"oneOf", titled("Option")}}},
      {"legacyEnum",
       {{"type", "string"}, {"description", "Select one option (legacy)"}, {"enum", {"opt1", "opt2", "opt3"}},
        {"enumNames", {"Option One", "Option Two", "Option Three"}}}},
      {"untitledMulti",
       {{"type", "array"}, {"description", "Select multiple options"}, {"minItems", 1}, {"maxItems", 3},
        {"items", {{"type", "string"}, {"enum", options}}}}},
      {"titledMulti",
       {{"type", "array"}, {"description", "Select multiple options with titles"}, {"minItems", 1}, {"maxItems", 3},
        {"items", {{"anyOf", titled("Choice")}}}}}};
  json request = elicit("Please select options from the enum fields", std::move(properties), json::array());
  return ask_client(call, "elicitation", "elicitation", std::move(request), elicitation_completed);
}

Reply list_roots(const Call& call) {
  return ask_client(call, "roots", "roots", {{"method", "roots/list"}, {"params", json::object()}}, roots_text);
}

// Modern: needs the sampling capability and says so with -32021 when the request did not declare it.
Reply missing_capability(const Call& call) {
  if (call.ctx.era == Era::Modern && !call.ctx.declares("sampling")) {
    return Reply(rpc_error(call.id, kMissingCapability, "Missing required client capability: sampling",
                           {{"requiredCapabilities", {{"sampling", json::object()}}}}),
                 400);
  }
  return rpc_result(call.id, tool_text("Success"));
}

Reply trigger(const Call& call, ChangeEvent::Kind kind, std::string uri = {}) {
  call.server.changes.publish(kind, std::move(uri));
  return rpc_result(call.id, tool_text("Mutation triggered"));
}
Reply trigger_tools(const Call& call) { return trigger(call, ChangeEvent::Kind::ToolsListChanged); }
Reply trigger_prompts(const Call& call) { return trigger(call, ChangeEvent::Kind::PromptsListChanged); }
Reply trigger_resources(const Call& call) { return trigger(call, ChangeEvent::Kind::ResourcesListChanged); }
Reply trigger_update(const Call& call) {
  return trigger(call, ChangeEvent::Kind::ResourceUpdated, argument(call, "uri", "test://watched-resource"));
}

json custom_header_schema() {
  return {{"type", "object"},
          {"properties",
           {{"region", {{"type", "string"}, {"description", "Mirrored into Mcp-Param-Region"}, {"x-mcp-header", "Region"}}},
            {"priority", {{"type", "integer"}, {"description", "Mirrored into Mcp-Param-Priority"}, {"x-mcp-header", "Priority"}}},
            {"query", {{"type", "string"}}}}},
          {"required", json::array({"region"})}};
}

Reply step_up(const Call& call) { return rpc_result(call.id, tool_text("step-up ok: this call needed mcp:write")); }

Reply custom_header(const Call& call) { return rpc_result(call.id, tool_text("arguments: " + call.arguments.dump())); }

json schema_2020_12() {
  return {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
          {"type", "object"},
          {"$defs",
           {{"address",
             {{"$anchor", "addressDef"},
              {"type", "object"},
              {"properties", {{"street", {{"type", "string"}}}, {"city", {{"type", "string"}}}}}}}}},
          {"properties",
           {{"name", {{"type", "string"}}},
            {"address", {{"$ref", "#/$defs/address"}}},
            {"contactMethod", {{"type", "string"}, {"enum", {"phone", "email"}}}},
            {"phone", {{"type", "string"}}},
            {"email", {{"type", "string"}}}}},
          {"allOf", json::array({{{"anyOf", json::array({{{"required", {"phone"}}}, {{"required", {"email"}}}})}}})},
          {"if", {{"properties", {{"contactMethod", {{"const", "phone"}}}}}, {"required", {"contactMethod"}}}},
          {"then", {{"required", {"phone"}}}},
          {"else", {{"required", {"email"}}}},
          {"additionalProperties", false}};
}

Reply schema_tool(const Call& call) {
  return rpc_result(call.id, tool_text("JSON Schema 2020-12 tool called with: " + call.arguments.dump()));
}

json prompt_schema() { return one_string("prompt", "The prompt to send to the LLM"); }
json message_schema() { return one_string("message", "The message to show the user"); }
json uri_schema() { return one_string("uri", "The resource URI to announce as updated"); }

const Tool kTools[] = {
    {"test_simple_text", "Tests simple text content response", no_args, simple_text},
    {"test_image_content", "Tests image content response", no_args, image},
    {"test_audio_content", "Tests audio content response", no_args, audio},
    {"test_embedded_resource", "Tests embedded resource content response", no_args, embedded},
    {"test_multiple_content_types", "Tests response with multiple content types (text, image, resource)", no_args, mixed},
    {"test_tool_with_logging", "Sends three log messages during execution", no_args, with_logging},
    {"test_tool_with_progress", "Reports progress 0, 50 and 100 when asked for progress", no_args, with_progress},
    {"test_error_handling", "Returns a tool error (isError: true)", no_args, error_result},
    {"test_reconnection", "Closes its SSE stream mid-call; the result follows on GET + Last-Event-ID", no_args,
     reconnection},
    {"test_sampling", "Asks the client for an LLM completion (sampling/createMessage)", prompt_schema, sampling},
    {"test_elicitation", "Asks the client for user input (elicitation/create)", message_schema, elicitation},
    {"test_elicitation_sep1034_defaults", "Elicitation with defaults for every primitive type (SEP-1034)", no_args,
     elicitation_defaults},
    {"test_elicitation_sep1330_enums", "Elicitation with the five enum schema shapes (SEP-1330)", no_args,
     elicitation_enums},
    {"test_list_roots", "Asks the client for its roots (roots/list)", no_args, list_roots},
    {"test_missing_capability", "Needs the client's sampling capability", no_args, missing_capability},
    {"test_streaming_elicitation", "Answers over a stream that carries only notifications", no_args, streaming_probe},
    {"test_logging_tool", "Logs only when the request sets a log level", no_args, logging_probe},
    {"test_trigger_tool_change", "Announces notifications/tools/list_changed", no_args, trigger_tools},
    {"test_trigger_prompt_change", "Announces notifications/prompts/list_changed", no_args, trigger_prompts},
    {"test_trigger_resource_list_change", "Announces notifications/resources/list_changed", no_args, trigger_resources},
    {"test_trigger_resource_update", "Announces notifications/resources/updated for uri", uri_schema, trigger_update},
    {"test_custom_header", "Has x-mcp-header parameters (Mcp-Param-Region, Mcp-Param-Priority)", custom_header_schema,
     custom_header},
    {"test_step_up", "On /protected/mcp: needs scope mcp:write (403 insufficient_scope without it)", no_args, step_up},
    {"json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features (SEP-1613)", schema_2020_12, schema_tool},
};

}  // namespace

void append_fixture_tools(json* tools) {
  for (const Tool& tool : kTools) {
    tools->push_back({{"name", tool.name}, {"description", tool.description}, {"inputSchema", tool.schema()}});
  }
}

const std::vector<HeaderParam>& tool_header_params(std::string_view tool) {
  static const std::vector<HeaderParam> none;
  static const std::vector<HeaderParam> custom = {{"Region", "region"}, {"Priority", "priority"}};
  return tool == "test_custom_header" ? custom : none;
}

std::optional<Reply> call_fixture_tool(const Call& call) {
  for (const Tool& tool : kTools) {
    if (call.name == tool.name) return tool.handler(call);
  }
  return std::nullopt;
}

}  // namespace luaload::engine::target::mcp
