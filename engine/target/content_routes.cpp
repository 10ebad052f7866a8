// SPDX-License-Identifier: MIT
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/target/http_util.hpp"
#include "engine/target/routes.hpp"
#include "engine/target/server_state.hpp"

namespace luaload::engine::target {

std::map<std::string, ContentProfile> TargetOptions::default_content_profiles() {
  using Kind = LatencySpec::Kind;
  return {
      {"fast", {{Kind::Uniform, 1'000'000, 5'000'000}, 0.0, 1024}},
      {"slow", {{Kind::Fixed, 500'000'000, 0}, 0.0, 1024}},
      {"mixed", {{Kind::LogNormal, 20'000'000, 300'000'000}, 0.0, 1024}},
      {"custom", {{Kind::Fixed, 0, 0}, 0.0, 1024}},
  };
}

namespace routes {
namespace {

constexpr size_t kMaxBodySize = 16 * 1024 * 1024;

// Applies the query of /content/custom on top of the route's defaults. False (with *error) on a bad parameter.
bool apply_query(std::string_view query, ContentProfile* profile, std::string* error) {
  if (auto latency = form_param(query, "latency")) {
    auto spec = parse_latency(*latency);
    if (!spec) return *error = "bad latency: " + *latency, false;
    profile->latency = *spec;
  }
  if (auto rate = form_param(query, "error_rate")) {
    char* end = nullptr;
    double value = std::strtod(rate->c_str(), &end);
    if (rate->empty() || *end != '\0' || !(value >= 0 && value <= 1)) return *error = "bad error_rate", false;
    profile->error_rate = value;
  }
  if (auto size = form_param(query, "size")) {
    size_t value = 0;
    auto [ptr, ec] = std::from_chars(size->data(), size->data() + size->size(), value);
    if (ec != std::errc() || ptr != size->data() + size->size() || value > kMaxBodySize) {
      return *error = "bad size (0 to 16777216)", false;
    }
    profile->size = value;
  }
  return true;
}

// {"route":"fast","latency_ms":2.512,"data":"xxxx..."} padded to exactly `size` bytes when it fits.
std::string content_body(std::string_view route, int64_t latency_ns, size_t size) {
  char head[160];
  int n = std::snprintf(head, sizeof(head), R"({"route":"%.*s","latency_ms":%.3f,"data":")",
                        static_cast<int>(std::min<size_t>(route.size(), 32)), route.data(), latency_ns / 1e6);
  std::string body(head, static_cast<size_t>(n));
  constexpr size_t kTail = 2;  // "}
  if (body.size() + kTail < size) body.append(size - body.size() - kTail, 'x');
  body.append("\"}");
  return body;
}

void finish(Responder& res, std::string_view route, const ContentProfile& profile, int64_t latency_ns) {
  auto& rng = thread_rng();
  if (profile.error_rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < profile.error_rate) {
    bool unavailable = (rng() & 1) != 0;
    respond_json(res, unavailable ? 503 : 500,
                 unavailable ? R"({"error":"service_unavailable","message":"injected backend error"})"
                             : R"({"error":"internal_error","message":"injected backend error"})");
    return;
  }
  res.respond(200, "application/json", content_body(route, latency_ns, profile.size));
}

}  // namespace

void content(const Request& req, Responder& res, ServerState& state) {
  std::string_view route = req.path().substr(std::string_view("/content/").size());
  auto it = state.options.content.find(std::string(route));
  if (it == state.options.content.end()) return not_found(req, res, state);
  ContentProfile profile = it->second;
  if (route == "custom") {
    std::string error;
    if (!apply_query(req.query(), &profile, &error)) {
      return respond_json(res, 400, nlohmann::json{{"error", error}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
  }
  int64_t latency_ns = sample_latency_ns(profile.latency, thread_rng());
  uint64_t delay_ms = static_cast<uint64_t>(latency_ns / 1'000'000);
  if (delay_ms == 0) return finish(res, route, profile, latency_ns);
  // `route` points into the request, which stays valid until this exchange ends.
  res.after(delay_ms, [&res, route, profile, latency_ns] { finish(res, route, profile, latency_ns); });
}

}  // namespace routes
}  // namespace luaload::engine::target
