// SPDX-License-Identifier: MIT
#include "support/node_server.hpp"

#include <unistd.h>

#include <csignal>
#include <regex>
#include <thread>

#include "support/files.hpp"

namespace luaload::test {
namespace {

constexpr std::chrono::milliseconds kStopGrace{3000};
constexpr std::chrono::milliseconds kReadyPoll{20};
constexpr size_t kLogTail = 4000;

std::string tail(const std::string& text) {
  return text.size() <= kLogTail ? text : "..." + text.substr(text.size() - kLogTail);
}

}  // namespace

namespace node_tools {

std::filesystem::path directory() { return std::filesystem::path(LUALOAD_SOURCE_DIR) / "tests" / "node"; }

std::filesystem::path node_binary() { return directory() / "node_modules" / ".bin" / "node"; }

bool available(std::string* why) {
  if (::access(node_binary().c_str(), X_OK) == 0) return true;
  *why = "Node test tools are not installed: " + node_binary().string() +
         " is missing. Run `bash .ci/setup.sh` (npm ci in tests/node) first.";
  return false;
}

std::vector<std::string> stdio_server_command(std::string_view mode) {
  return {node_binary().string(), (directory() / "servers" / "stdio.mjs").string(), "--mode", std::string(mode)};
}

}  // namespace node_tools

NodeMcpServer::~NodeMcpServer() { stop(); }

bool NodeMcpServer::start(std::string_view mode, std::string* error) {
  if (!node_tools::available(error)) return false;
  ProcessOptions options;
  options.argv = {node_tools::node_binary().string(), (node_tools::directory() / "servers" / "http.mjs").string(),
                  "--mode", std::string(mode), "--port", "0"};
  if (!process_.start(options, log_path(), error)) return false;
  if (wait_for_url(error)) return true;
  stop();
  return false;
}

// The server prints its URL once listening; its log also gets its stderr, so the URL is found by shape.
bool NodeMcpServer::wait_for_url(std::string* error) {
  static const std::regex kUrl(R"(http://127\.0\.0\.1:[0-9]+/mcp)");
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = log();
    std::smatch match;
    if (std::regex_search(text, match, kUrl)) {
      url_ = match.str();
      return true;
    }
    if (!process_.running()) {
      *error = "the SDK test server exited before printing its URL:\n" + tail(text);
      return false;
    }
    std::this_thread::sleep_for(kReadyPoll);
  }
  *error = "the SDK test server printed no URL within " + std::to_string(kStartTimeout.count()) + " ms:\n" +
           tail(log());
  return false;
}

bool NodeMcpServer::stop() {
  url_.clear();
  return process_.stop(SIGTERM, kStopGrace);
}

std::string NodeMcpServer::log() const { return read_text(log_path()); }

}  // namespace luaload::test
