// SPDX-License-Identifier: MIT
#include "support/node_server.hpp"

#include <unistd.h>

#include <csignal>
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

bool NodeProcess::start(std::string_view script, const std::vector<std::string>& args, std::string* error) {
  if (!node_tools::available(error)) return false;
  ProcessOptions options;
  options.argv = {node_tools::node_binary().string(), (node_tools::directory() / "servers" / script).string()};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  return process_.start(options, log_path(), error);
}

// The log also gets the script's stderr, so what it prints is found by shape, not by position.
bool NodeProcess::wait_for(const std::regex& pattern, std::string* value, std::string* error) {
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = log();
    std::smatch match;
    if (std::regex_search(text, match, pattern)) {
      *value = match.str(1);
      return true;
    }
    if (!process_.running()) {
      *error = "the Node test server exited before it was ready:\n" + tail(text);
      return false;
    }
    std::this_thread::sleep_for(kReadyPoll);
  }
  *error = "the Node test server was not ready within " + std::to_string(kStartTimeout.count()) + " ms:\n" +
           tail(log());
  return false;
}

bool NodeProcess::stop() { return process_.stop(SIGTERM, kStopGrace); }

std::string NodeProcess::log() const { return read_text(log_path()); }

bool NodeMcpServer::start(std::string_view mode, std::string* error) {
  static const std::regex kUrl(R"((http://127\.0\.0\.1:[0-9]+/mcp))");
  if (process_.start("http.mjs", {"--mode", std::string(mode), "--port", "0"}, error) &&
      process_.wait_for(kUrl, &url_, error)) {
    return true;
  }
  stop();
  return false;
}

bool NodeMcpServer::stop() {
  url_.clear();
  return process_.stop();
}

bool NodeOAuthServer::start(const OAuthServerOptions& options, std::string* error) {
  static const std::regex kIssuer(R"(issuer=(http://127\.0\.0\.1:[0-9]+))");
  static const std::regex kResource(R"(resource=(http://127\.0\.0\.1:[0-9]+/api))");
  std::vector<std::string> args = {"--ttl", std::to_string(options.token_ttl_s)};
  for (const std::string& client : options.clients) {
    args.insert(args.end(), {"--client", client});
  }
  if (options.resource) args.emplace_back("--resource");
  if (process_.start("oauth.mjs", args, error) && process_.wait_for(kIssuer, &issuer_, error) &&
      (!options.resource || process_.wait_for(kResource, &resource_url_, error))) {
    return true;
  }
  stop();
  return false;
}

bool NodeOAuthServer::stop() {
  issuer_.clear();
  resource_url_.clear();
  return process_.stop();
}

}  // namespace luaload::test
