// SPDX-License-Identifier: MIT
#pragma once

// MCP protocol constants and JSON-RPC envelopes shared by every part of the target's MCP server (both eras, every
// transport). Pure data and pure functions: callable from any thread.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace luaload::engine::target::mcp {

// Revisions we speak, newest first. Legacy revisions open a session with `initialize`; modern ones carry their
// version, client info and capabilities in every request's params._meta.
inline constexpr const char* kModernVersions[] = {"2026-07-28"};
inline constexpr const char* kLegacyVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};
inline constexpr const char* kLatestModernVersion = kModernVersions[0];
inline constexpr const char* kLatestLegacyVersion = kLegacyVersions[0];
// Kept for callers of the legacy-only API.
inline constexpr const char* kLatestVersion = kLatestLegacyVersion;

bool is_modern_version(std::string_view version);
bool is_legacy_version(std::string_view version);
// A legacy revision whose POST streams are resumable (priming event, event ids, retry: 2025-11-25 and later).
bool has_resumable_streams(std::string_view legacy_version);

// JSON-RPC error codes (JSON-RPC 2.0 and the MCP-reserved range).
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kResourceNotFound = -32002;       // legacy revisions only; modern uses -32602
inline constexpr int kHeaderMismatch = -32020;         // modern: headers disagree with the body
inline constexpr int kMissingCapability = -32021;      // modern: MissingRequiredClientCapabilityError
inline constexpr int kUnsupportedVersion = -32022;     // modern: UnsupportedProtocolVersionError

// _meta keys of the modern envelope.
inline constexpr const char* kMetaProtocolVersion = "io.modelcontextprotocol/protocolVersion";
inline constexpr const char* kMetaClientInfo = "io.modelcontextprotocol/clientInfo";
inline constexpr const char* kMetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities";
inline constexpr const char* kMetaLogLevel = "io.modelcontextprotocol/logLevel";
inline constexpr const char* kMetaServerInfo = "io.modelcontextprotocol/serverInfo";
inline constexpr const char* kMetaSubscriptionId = "io.modelcontextprotocol/subscriptionId";

inline constexpr const char* kServerName = "luaload-target";
inline constexpr const char* kServerVersion = "0.2.0";

nlohmann::json rpc_result(const nlohmann::json& id, nlohmann::json result);
nlohmann::json rpc_error(const nlohmann::json& id, int code, const std::string& message);
nlohmann::json rpc_error(const nlohmann::json& id, int code, const std::string& message, nlohmann::json data);
nlohmann::json notification(const char* method, nlohmann::json params);

// RFC 5424 severity order of notifications/message levels: debug=0 ... emergency=7; -1 for an unknown name.
int log_level_rank(std::string_view level);
// True when a message at `level` passes the threshold `minimum` ("" = logging off: nothing passes).
bool log_level_allows(std::string_view minimum, std::string_view level);

// Serialization used on every wire: invalid UTF-8 is replaced instead of throwing.
std::string dump(const nlohmann::json& j);

}  // namespace luaload::engine::target::mcp
