// SPDX-License-Identifier: MIT
#include "engine/target/mcp_protocol.hpp"

#include <algorithm>
#include <iterator>

namespace luaload::engine::target::mcp {
namespace {

using json = nlohmann::json;

constexpr std::string_view kLogLevels[] = {"debug",    "info",  "notice", "warning",
                                           "error",    "critical", "alert", "emergency"};

template <typename List>
bool listed(const List& list, std::string_view version) {
  return std::find(std::begin(list), std::end(list), version) != std::end(list);
}

}  // namespace

bool is_modern_version(std::string_view version) { return listed(kModernVersions, version); }
bool is_legacy_version(std::string_view version) { return listed(kLegacyVersions, version); }
bool has_resumable_streams(std::string_view legacy_version) { return legacy_version >= "2025-11-25"; }

json rpc_result(const json& id, json result) { return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}; }

json rpc_error(const json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

json rpc_error(const json& id, int code, const std::string& message, json data) {
  json error = rpc_error(id, code, message);
  error["error"]["data"] = std::move(data);
  return error;
}

json notification(const char* method, json params) {
  return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

int log_level_rank(std::string_view level) {
  auto it = std::find(std::begin(kLogLevels), std::end(kLogLevels), level);
  return it == std::end(kLogLevels) ? -1 : static_cast<int>(it - std::begin(kLogLevels));
}

bool log_level_allows(std::string_view minimum, std::string_view level) {
  int threshold = log_level_rank(minimum);
  return threshold >= 0 && log_level_rank(level) >= threshold;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace luaload::engine::target::mcp
