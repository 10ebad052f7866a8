// SPDX-License-Identifier: MIT
#pragma once

// Internal to the MCP method layer: the tools, resources and prompts, one family per file. Each call_* returns
// nullopt when the name is not one of its own, so mcp_methods.cpp can try the families in order (load tools first:
// they are the hot path).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "engine/target/mcp_methods.hpp"

namespace luaload::engine::target::mcp {

// What every tools/call, prompts/get and resources/read handler gets.
struct Call {
  Server& server;
  const Context& ctx;
  const nlohmann::json& id;
  const nlohmann::json& params;     // the request's params (an object)
  const nlohmann::json& arguments;  // params.arguments (an object; empty when absent)
  const std::string& name;          // tool or prompt name, or resource uri
};

// {"content":[{"type":"text","text":...}]} (+ isError).
nlohmann::json tool_text(const std::string& text, bool is_error = false);
const nlohmann::json& empty_object();

// mcp_load_tools.cpp: echo, add, slow; luaload://readme and luaload://config; the greet prompt.
void append_load_tools(nlohmann::json* tools);
std::optional<Reply> call_load_tool(const Call& call);
void append_load_resources(nlohmann::json* resources);
std::optional<Reply> read_load_resource(const Call& call);
void append_load_prompts(nlohmann::json* prompts);
std::optional<Reply> get_load_prompt(const Call& call);
extern const char* const kInstructions;

// mcp_fixture_tools.cpp: the conformance suite's test_* tools and luaload's feature tools (server requests,
// resumable streams, list-change triggers, x-mcp-header).
void append_fixture_tools(nlohmann::json* tools);
std::optional<Reply> call_fixture_tool(const Call& call);

// mcp_fixture_content.cpp: test:// resources and the resource template, test_* prompts, completion.
void append_fixture_resources(nlohmann::json* resources);
void append_fixture_templates(nlohmann::json* templates);
std::optional<Reply> read_fixture_resource(const Call& call);
void append_fixture_prompts(nlohmann::json* prompts);
std::optional<Reply> get_fixture_prompt(const Call& call);
Reply complete(const Call& call);

// mcp_mrtr.cpp: tools and the prompt answering with input_required (multi round-trip requests), and the
// requestState integrity protection.
void append_mrtr_tools(nlohmann::json* tools);
std::optional<Reply> call_mrtr_tool(const Call& call);
void append_mrtr_prompts(nlohmann::json* prompts);
std::optional<Reply> get_mrtr_prompt(const Call& call);
// An input_required result. `state` (may be null) is signed into requestState.
nlohmann::json input_required(nlohmann::json input_requests, const Server& server, const nlohmann::json& state);
// The verified payload of a signed requestState, or nullopt when it was tampered with or is malformed.
std::optional<nlohmann::json> verify_state(const Server& server, const std::string& request_state);

// A tool that needs the client: in the legacy era it sends `request` ({"method","params"}) as a server request and
// finishes with on_result(answer.result); in the modern era it answers input_required under `key` and finishes
// once the retry carries inputResponses[key]. `capability` is the client capability the request needs.
using OnInput = nlohmann::json (*)(const nlohmann::json& input);
Reply ask_client(const Call& call, const char* capability, const char* key, nlohmann::json request, OnInput on_result);

}  // namespace luaload::engine::target::mcp
