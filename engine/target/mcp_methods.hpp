// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace luaload::engine::target::mcp {

// Protocol revisions we speak, newest first.
inline constexpr const char* kSupportedVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};
inline constexpr const char* kLatestVersion = kSupportedVersions[0];
bool supported_version(const std::string& version);

// JSON-RPC error codes.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kResourceNotFound = -32002;

nlohmann::json rpc_result(const nlohmann::json& id, nlohmann::json result);
nlohmann::json rpc_error(const nlohmann::json& id, int code, const std::string& message);

// The answer to one JSON-RPC request. A positive delay_ms means "send `response` after that long" (the slow tool);
// progress_token, when not null, asks for notifications/progress while waiting.
struct Reply {
  Reply(nlohmann::json r, uint64_t delay = 0, nlohmann::json token = nullptr)
      : response(std::move(r)), delay_ms(delay), progress_token(std::move(token)) {}
  nlohmann::json response;
  uint64_t delay_ms = 0;
  nlohmann::json progress_token;
};

// initialize's result; *version receives the negotiated protocol version (the client's if supported, else ours).
nlohmann::json initialize_result(const nlohmann::json& params, std::string* version);
// Every other request method (ping, tools/*, resources/*, prompts/*); unknown ones get -32601.
Reply handle_request(const std::string& method, const nlohmann::json& id, const nlohmann::json& params);

}  // namespace luaload::engine::target::mcp
