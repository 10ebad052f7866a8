// SPDX-License-Identifier: MIT
#include <charconv>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/target/http_util.hpp"
#include "engine/target/routes.hpp"

namespace luaload::engine::target::routes {
namespace {

constexpr int kMaxRedirects = 100;

// A whole decimal number filling `text`, or -1.
int parse_small_int(std::string_view text) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return -1;
  return value;
}

}  // namespace

void respond_json(Responder& res, int status, std::string_view json) { res.respond(status, "application/json", json); }

void method_not_allowed(Responder& res, std::string_view allow) {
  HeaderField headers[] = {{"Allow", allow}};
  res.respond(405, "application/json", R"({"error":"method not allowed"})", headers);
}

void health(const Request& req, Responder& res, ServerState&) {
  if (req.method != "GET" && req.method != "HEAD") return method_not_allowed(res, "GET, HEAD");
  res.respond(200, "text/plain", "ok");
}

void echo(const Request& req, Responder& res, ServerState&) {
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [name, value] : req.headers) headers[name] = value;
  nlohmann::json out = {
      {"method", req.method}, {"path", req.path()}, {"query", req.query()}, {"headers", headers}, {"body", req.body}};
  // Bodies are arbitrary bytes; invalid UTF-8 is replaced rather than failing the dump.
  respond_json(res, 200, out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void redirect(const Request& req, Responder& res, ServerState& state) {
  int n = parse_small_int(req.path().substr(std::string_view("/redirect/").size()));
  if (n < 0 || n > kMaxRedirects) return not_found(req, res, state);
  if (n == 0) return respond_json(res, 200, R"({"redirected":true})");
  std::string location = "/redirect/" + std::to_string(n - 1);
  HeaderField headers[] = {{"Location", location}};
  res.respond(302, "text/plain", "", headers);
}

void status(const Request& req, Responder& res, ServerState&) {
  int code = parse_small_int(req.path().substr(std::string_view("/status/").size()));
  if (code < 200 || code > 599) {
    return respond_json(res, 400, R"({"error":"status must be a number from 200 to 599"})");
  }
  std::string body = "{\"status\":" + std::to_string(code) + "}";
  respond_json(res, code, body);
}

void not_found(const Request&, Responder& res, ServerState&) { respond_json(res, 404, R"({"error":"not found"})"); }

}  // namespace luaload::engine::target::routes
