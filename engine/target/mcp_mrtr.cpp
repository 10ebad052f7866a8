// SPDX-License-Identifier: MIT
// Multi round-trip requests (2026-07-28): the test_input_required_result_* tools and prompt, ask_client() for the
// tools that need the client in either era, and requestState integrity.
//
// requestState is base64url(payload) "." base64url(HMAC-SHA256(Server::state_key, payload)). The payload binds the
// state to the tool or prompt it was issued for and carries an expiry; anything that fails verification is
// rejected with -32602 (the client must echo the state untouched).
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>

#include "engine/target/http_util.hpp"
#include "engine/target/mcp_catalog.hpp"

namespace luaload::engine::target::mcp {
namespace {

using json = nlohmann::json;

constexpr int64_t kStateTtlMs = 10 * 60 * 1000;

int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string hmac(const std::string& key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

json elicit(const char* message, const char* field, const char* type = "string") {
  return {{"method", "elicitation/create"},
          {"params",
           {{"message", message},
            {"requestedSchema",
             {{"type", "object"}, {"properties", {{field, {{"type", type}}}}}, {"required", json::array({field})}}}}}};
}

json sample(const char* text, int max_tokens) {
  json message = {{"role", "user"}, {"content", {{"type", "text"}, {"text", text}}}};
  return {{"method", "sampling/createMessage"},
          {"params", {{"messages", json::array({message})}, {"maxTokens", max_tokens}}}};
}

json roots_request() { return {{"method", "roots/list"}, {"params", json::object()}}; }

// Which client capability an input request needs.
const char* capability_of(const json& request) {
  std::string method = request.value("method", "");
  if (method == "elicitation/create") return "elicitation";
  if (method == "sampling/createMessage") return "sampling";
  return "roots";
}

// The client's answers of a retry: what the round needs to go on.
struct Round {
  const json* responses = nullptr;  // params.inputResponses when it is an object
  std::optional<json> state;        // the verified requestState payload
  bool bad_state = false;           // a requestState that failed verification
  bool bad_responses = false;       // inputResponses present but not an object

  const json* answer(const char* key) const {
    if (responses == nullptr) return nullptr;
    auto it = responses->find(key);
    return it != responses->end() && it->is_object() ? &*it : nullptr;
  }
};

Round read_round(const Call& call) {
  Round round;
  auto responses = call.params.find("inputResponses");
  if (responses != call.params.end()) {
    if (responses->is_object()) round.responses = &*responses;
    else round.bad_responses = true;
  }
  auto state = call.params.find("requestState");
  if (state != call.params.end()) {
    auto payload = state->is_string() ? verify_state(call.server, state->get<std::string>()) : std::nullopt;
    if (payload && payload->value("for", "") == call.name) round.state = std::move(payload);
    else round.bad_state = true;
  }
  return round;
}

std::string content_text(const json* answer, const char* field, const char* fallback) {
  if (answer == nullptr || !answer->contains("content") || !(*answer)["content"].is_object()) return fallback;
  auto value = (*answer)["content"].find(field);
  return value != (*answer)["content"].end() && value->is_string() ? value->get<std::string>() : fallback;
}

size_t roots_count(const json* answer) {
  return answer != nullptr && answer->contains("roots") && (*answer)["roots"].is_array() ? (*answer)["roots"].size()
                                                                                          : 0;
}

// The round's input_required result, or -32021 when the request did not declare a capability an input needs.
Reply ask(const Call& call, json requests, json state = nullptr) {
  json missing = json::object();
  for (auto& [key, request] : requests.items()) {
    const char* capability = capability_of(request);
    if (!call.ctx.declares(capability)) missing[capability] = json::object();
  }
  if (!missing.empty()) {
    return Reply(rpc_error(call.id, kMissingCapability, "Missing required client capability",
                           {{"requiredCapabilities", std::move(missing)}}),
                 400);
  }
  if (!state.is_null()) state["for"] = call.name;
  return rpc_result(call.id, input_required(std::move(requests), call.server, state));
}

Reply done(const Call& call, const std::string& text) { return rpc_result(call.id, tool_text(text)); }

Reply elicitation(const Call& call, const Round& r) {
  if (const json* a = r.answer("user_name")) return done(call, "Hello, " + content_text(a, "name", "unknown") + "!");
  return ask(call, {{"user_name", elicit("What is your name?", "name")}});
}

Reply sampling(const Call& call, const Round& r) {
  if (const json* a = r.answer("sample_request")) {
    return done(call, "Sampling result: " + content_text(a, "text", "no response"));
  }
  return ask(call, {{"sample_request", sample("What is the capital of France?", 100)}});
}

Reply list_roots(const Call& call, const Round& r) {
  if (const json* a = r.answer("roots_request")) return done(call, "Found " + std::to_string(roots_count(a)) + " root(s)");
  return ask(call, {{"roots_request", roots_request()}});
}

Reply request_state(const Call& call, const Round& r) {
  const json* confirm = r.answer("confirm");
  if (r.state && r.state->value("kind", "") == "request-state" && confirm != nullptr &&
      confirm->contains("content") && (*confirm)["content"].value("ok", false) == true) {
    return done(call, "state-ok: requestState validated");
  }
  return ask(call, {{"confirm", elicit("Please confirm", "ok", "boolean")}}, {{"kind", "request-state"}});
}

Reply multiple_inputs(const Call& call, const Round& r) {
  const json* name = r.answer("user_name");
  const json* greeting = r.answer("greeting");
  const json* roots = r.answer("client_roots");
  if (r.state && name != nullptr && greeting != nullptr && roots != nullptr) {
    return done(call, "Name: " + content_text(name, "name", "unknown") + "; Greeting: " +
                          content_text(greeting, "text", "Hello there!") + "; Roots: " +
                          std::to_string(roots_count(roots)));
  }
  json requests = {{"user_name", elicit("What is your name?", "name")},
                   {"greeting", sample("Generate a greeting", 50)},
                   {"client_roots", roots_request()}};
  return ask(call, std::move(requests), {{"kind", "multiple-inputs"}});
}

Reply multi_round(const Call& call, const Round& r) {
  int round = r.state ? r.state->value("round", 0) : 0;
  if (round == 1 && r.answer("step1") != nullptr) {
    json state = {{"round", 2}, {"name", content_text(r.answer("step1"), "name", "friend")}};
    return ask(call, {{"step2", elicit("Step 2: What is your favorite color?", "color")}}, std::move(state));
  }
  if (round == 2 && r.answer("step2") != nullptr) {
    return done(call, "Multi-round complete for " + r.state->value("name", std::string("friend")) + " who likes " +
                          content_text(r.answer("step2"), "color", "unknown"));
  }
  return ask(call, {{"step1", elicit("Step 1: What is your name?", "name")}}, {{"round", 1}});
}

Reply tampered_state(const Call& call, const Round& r) {
  if (r.state && r.state->value("kind", "") == "tamper-test" && r.answer("confirm") != nullptr) {
    return done(call, "integrity-ok: state verified");
  }
  return ask(call, {{"confirm", elicit("Please confirm", "ok", "boolean")}}, {{"kind", "tamper-test"}});
}

Reply capabilities(const Call& call, const Round& r) {
  if (r.responses != nullptr && !r.responses->empty()) {
    std::string keys;
    for (auto& [key, value] : r.responses->items()) keys += (keys.empty() ? "" : ",") + key;
    return done(call, "capabilities-ok: received " + keys);
  }
  json requests = json::object();
  if (call.ctx.declares("elicitation")) requests["elicit_input"] = elicit("Elicitation input", "value");
  if (call.ctx.declares("sampling")) requests["sample_input"] = sample("Sample request", 50);
  if (requests.empty()) return done(call, "No supported capabilities declared");
  return ask(call, std::move(requests), {{"kind", "capabilities-test"}});
}

using Handler = Reply (*)(const Call&, const Round&);

struct Tool {
  const char* name;
  const char* description;
  Handler handler;
};

const Tool kTools[] = {
    {"test_input_required_result_elicitation", "MRTR: asks for the user's name (elicitation)", elicitation},
    {"test_input_required_result_sampling", "MRTR: asks for an LLM completion (sampling)", sampling},
    {"test_input_required_result_list_roots", "MRTR: asks for the client's roots", list_roots},
    {"test_input_required_result_request_state", "MRTR: round-trips a requestState", request_state},
    {"test_input_required_result_multiple_inputs", "MRTR: three input requests at once", multiple_inputs},
    {"test_input_required_result_multi_round", "MRTR: two rounds with evolving requestState", multi_round},
    {"test_input_required_result_tampered_state", "MRTR: rejects a tampered requestState", tampered_state},
    {"test_input_required_result_capabilities", "MRTR: asks only for declared client capabilities", capabilities},
};

// Shared front of every MRTR handler: malformed retries are protocol errors.
std::optional<Reply> reject_bad_round(const Call& call, const Round& round) {
  if (round.bad_responses) return rpc_error(call.id, kInvalidParams, "inputResponses must be an object");
  if (round.bad_state) return rpc_error(call.id, kInvalidParams, "requestState integrity check failed");
  return std::nullopt;
}

}  // namespace

json input_required(json input_requests, const Server& server, const json& state) {
  json result = {{"resultType", "input_required"}};
  if (!input_requests.empty()) result["inputRequests"] = std::move(input_requests);
  if (!state.is_null()) {
    json payload = state;
    payload["exp"] = unix_ms() + kStateTtlMs;
    payload["nonce"] = random_token(8);
    std::string data = payload.dump();
    result["requestState"] = base64url_encode(data) + "." + base64url_encode(hmac(server.state_key, data));
  }
  return result;
}

std::optional<json> verify_state(const Server& server, const std::string& request_state) {
  size_t dot = request_state.find('.');
  if (dot == std::string::npos) return std::nullopt;
  auto data = base64url_decode(std::string_view(request_state).substr(0, dot));
  auto mac = base64url_decode(std::string_view(request_state).substr(dot + 1));
  if (!data || !mac) return std::nullopt;
  std::string expected = hmac(server.state_key, *data);
  if (mac->size() != expected.size() || CRYPTO_memcmp(mac->data(), expected.data(), expected.size()) != 0) {
    return std::nullopt;
  }
  json payload = json::parse(*data, nullptr, false);
  if (!payload.is_object() || payload.value("exp", int64_t{0}) < unix_ms()) return std::nullopt;
  return payload;
}

void append_mrtr_tools(json* tools) {
  for (const Tool& tool : kTools) {
    tools->push_back({{"name", tool.name},
                      {"description", tool.description},
                      {"inputSchema", {{"type", "object"}, {"properties", json::object()}}}});
  }
}

std::optional<Reply> call_mrtr_tool(const Call& call) {
  for (const Tool& tool : kTools) {
    if (call.name != tool.name) continue;
    Round round = read_round(call);
    if (auto error = reject_bad_round(call, round)) return error;
    return tool.handler(call, round);
  }
  return std::nullopt;
}

void append_mrtr_prompts(json* prompts) {
  prompts->push_back({{"name", "test_input_required_result_prompt"},
                      {"description", "MRTR: a prompt that asks the user for context first"}});
}

std::optional<Reply> get_mrtr_prompt(const Call& call) {
  if (call.name != "test_input_required_result_prompt") return std::nullopt;
  Round round = read_round(call);
  if (auto error = reject_bad_round(call, round)) return error;
  if (const json* a = round.answer("user_context")) {
    std::string text = "Prompt with context: " + content_text(a, "context", "unknown");
    return rpc_result(call.id, {{"messages", json::array({{{"role", "user"},
                                                           {"content", {{"type", "text"}, {"text", text}}}}})}});
  }
  return ask(call, {{"user_context", elicit("What context should the prompt use?", "context")}});
}

Reply ask_client(const Call& call, const char* capability, const char* key, json request, OnInput on_result) {
  if (call.ctx.era == Era::Modern) {
    Round round = read_round(call);
    if (auto error = reject_bad_round(call, round)) return std::move(*error);
    if (const json* answer = round.answer(key)) return rpc_result(call.id, on_result(*answer));
    return ask(call, {{key, std::move(request)}});
  }
  if (!call.ctx.declares(capability)) {
    return rpc_result(call.id, tool_text(std::string("the client did not declare the ") + capability + " capability", true));
  }
  if (!call.ctx.can_ask) {
    return rpc_result(call.id, tool_text("this exchange cannot carry server requests (answer over SSE)", true));
  }
  Reply reply;
  json id = call.id;
  reply.steps.push_back({Step::Kind::Ask, std::move(request), 0, [id, on_result](const json& answer) {
                           if (answer.contains("result") && answer["result"].is_object()) {
                             return Reply(rpc_result(id, on_result(answer["result"])));
                           }
                           std::string why = answer.contains("error") ? answer["error"].value("message", "error") : "no result";
                           return Reply(rpc_result(id, tool_text("the client answered with an error: " + why, true)));
                         }});
  return reply;
}

}  // namespace luaload::engine::target::mcp
