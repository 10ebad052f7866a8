// SPDX-License-Identifier: MIT
// Fixture resources and prompts for the conformance suite: test:// resources, one resource template, test_* prompts,
// and completion/complete.
#include <string_view>

#include "engine/target/mcp_catalog.hpp"

namespace luaload::engine::target::mcp {
namespace {

using json = nlohmann::json;

constexpr const char* kPng =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
constexpr std::string_view kTemplatePrefix = "test://template/";
constexpr std::string_view kTemplateSuffix = "/data";

Reply contents(const Call& call, json item) {
  return rpc_result(call.id, {{"contents", json::array({std::move(item)})}});
}

json text_message(std::string text) {
  return {{"role", "user"}, {"content", {{"type", "text"}, {"text", std::move(text)}}}};
}

Reply messages(const Call& call, const char* description, json list) {
  return rpc_result(call.id, {{"description", description}, {"messages", std::move(list)}});
}

std::string argument(const Call& call, const char* key) {
  auto it = call.arguments.find(key);
  return it != call.arguments.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// test://template/{id}/data -> the id, or "" when `uri` is not an instance of the template.
std::string_view template_id(std::string_view uri) {
  if (!uri.starts_with(kTemplatePrefix) || !uri.ends_with(kTemplateSuffix)) return {};
  uri.remove_prefix(kTemplatePrefix.size());
  uri.remove_suffix(kTemplateSuffix.size());
  return uri.find('/') == std::string_view::npos ? uri : std::string_view{};
}

Reply prompt_with_arguments(const Call& call) {
  std::string arg1 = argument(call, "arg1");
  std::string arg2 = argument(call, "arg2");
  if (arg1.empty() || arg2.empty()) return rpc_error(call.id, kInvalidParams, "arg1 and arg2 are required");
  return messages(call, "A prompt with required arguments",
                  json::array({text_message("Prompt with arguments: arg1='" + arg1 + "', arg2='" + arg2 + "'")}));
}

Reply prompt_with_resource(const Call& call) {
  std::string uri = argument(call, "resourceUri");
  if (uri.empty()) return rpc_error(call.id, kInvalidParams, "resourceUri is required");
  json resource = {{"uri", uri}, {"mimeType", "text/plain"}, {"text", "Embedded resource content for testing."}};
  json embedded = {{"role", "user"}, {"content", {{"type", "resource"}, {"resource", std::move(resource)}}}};
  return messages(call, "A prompt that includes an embedded resource",
                  json::array({std::move(embedded), text_message("Please process the embedded resource above.")}));
}

Reply prompt_with_image(const Call& call) {
  json image = {{"role", "user"}, {"content", {{"type", "image"}, {"data", kPng}, {"mimeType", "image/png"}}}};
  return messages(call, "A prompt that includes image content",
                  json::array({std::move(image), text_message("Please analyze the image above.")}));
}

json argument_list(std::initializer_list<std::pair<const char*, const char*>> args) {
  json list = json::array();
  for (const auto& [name, description] : args) {
    list.push_back({{"name", name}, {"description", description}, {"required", true}});
  }
  return list;
}

}  // namespace

void append_fixture_resources(json* resources) {
  resources->push_back({{"uri", "test://static-text"}, {"name", "static-text"}, {"title", "Static Text Resource"},
                        {"description", "A static text resource for testing"}, {"mimeType", "text/plain"}});
  resources->push_back({{"uri", "test://static-binary"}, {"name", "static-binary"},
                        {"title", "Static Binary Resource"}, {"description", "A static binary resource (image)"},
                        {"mimeType", "image/png"}});
  resources->push_back({{"uri", "test://watched-resource"}, {"name", "watched-resource"},
                        {"title", "Watched Resource"},
                        {"description", "Updated whenever test_trigger_resource_update names it"},
                        {"mimeType", "text/plain"}});
}

void append_fixture_templates(json* templates) {
  templates->push_back({{"uriTemplate", "test://template/{id}/data"}, {"name", "template"},
                        {"title", "Resource Template"},
                        {"description", "A resource template with parameter substitution"},
                        {"mimeType", "application/json"}});
}

std::optional<Reply> read_fixture_resource(const Call& call) {
  const std::string& uri = call.name;
  if (uri == "test://static-text") {
    return contents(call, {{"uri", uri}, {"mimeType", "text/plain"},
                           {"text", "This is the content of the static text resource."}});
  }
  if (uri == "test://static-binary") return contents(call, {{"uri", uri}, {"mimeType", "image/png"}, {"blob", kPng}});
  if (uri == "test://watched-resource") {
    return contents(call, {{"uri", uri}, {"mimeType", "text/plain"}, {"text", "Watched resource content"}});
  }
  std::string_view id = template_id(uri);
  if (id.empty()) return std::nullopt;
  json data = {{"id", id}, {"templateTest", true}, {"data", "Data for ID: " + std::string(id)}};
  return contents(call, {{"uri", uri}, {"mimeType", "application/json"}, {"text", data.dump()}});
}

void append_fixture_prompts(json* prompts) {
  prompts->push_back({{"name", "test_simple_prompt"}, {"title", "Simple Test Prompt"},
                      {"description", "A simple prompt without arguments"}});
  prompts->push_back({{"name", "test_prompt_with_arguments"}, {"title", "Prompt With Arguments"},
                      {"description", "A prompt with required arguments"},
                      {"arguments", argument_list({{"arg1", "First test argument"}, {"arg2", "Second test argument"}})}});
  prompts->push_back({{"name", "test_prompt_with_embedded_resource"}, {"title", "Prompt With Embedded Resource"},
                      {"description", "A prompt that includes an embedded resource"},
                      {"arguments", argument_list({{"resourceUri", "URI of the resource to embed"}})}});
  prompts->push_back({{"name", "test_prompt_with_image"}, {"title", "Prompt With Image"},
                      {"description", "A prompt that includes image content"}});
}

std::optional<Reply> get_fixture_prompt(const Call& call) {
  if (call.name == "test_simple_prompt") {
    return messages(call, "A simple prompt without arguments",
                    json::array({text_message("This is a simple prompt for testing.")}));
  }
  if (call.name == "test_prompt_with_arguments") return prompt_with_arguments(call);
  if (call.name == "test_prompt_with_embedded_resource") return prompt_with_resource(call);
  if (call.name == "test_prompt_with_image") return prompt_with_image(call);
  return std::nullopt;
}

// Suggestions that start with the typed value, from a small fixed vocabulary.
Reply complete(const Call& call) {
  static const char* const kWords[] = {"paris", "park", "party", "test", "testing", "value1", "value2"};
  std::string prefix;
  auto argument = call.params.find("argument");
  if (argument != call.params.end() && argument->is_object()) prefix = argument->value("value", std::string());
  json values = json::array();
  for (const char* word : kWords) {
    if (std::string_view(word).starts_with(prefix)) values.push_back(word);
  }
  size_t total = values.size();
  return rpc_result(call.id, {{"completion", {{"values", std::move(values)}, {"total", total}, {"hasMore", false}}}});
}

}  // namespace luaload::engine::target::mcp
