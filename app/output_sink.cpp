// SPDX-License-Identifier: MIT
#include "app/output_sink.hpp"

#include "app/points_output.hpp"
#include "engine/core/duration.hpp"
#include "engine/output/junit.hpp"
#include "engine/output/summary_json.hpp"

namespace luaload::app {
namespace {

constexpr int64_t kSecondNs = 1'000'000'000;

bool apply_option(const std::string& option, OutSpec* spec, std::string* error) {
  const auto eq = option.find('=');
  const std::string key = option.substr(0, eq);
  const std::string value = eq == std::string::npos ? "" : option.substr(eq + 1);
  if (key == "aggregate") {
    auto ns = core::parse_duration(value);
    if (!ns || *ns < kSecondNs || *ns % kSecondNs != 0) {
      *error = "--out: aggregate needs whole seconds (like 1s or 10s), got \"" + value + "\"";
      return false;
    }
    spec->aggregate_s = static_cast<int>(*ns / kSecondNs);
    return true;
  }
  if (key == "time_format" && spec->format == OutSpec::Format::Csv && (value == "unix" || value == "unix_milli")) {
    spec->unix_milli = value == "unix_milli";
    return true;
  }
  *error = "--out: unknown option \"" + option + "\" (expected aggregate=1s" +
           (spec->format == OutSpec::Format::Csv ? std::string(" or time_format=unix|unix_milli)") : ")");
  return false;
}

// Trailing ":key=value" parts are options when the key is one we know, so paths with colons still work.
std::string split_options(std::string rest, std::vector<std::string>* options) {
  while (true) {
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos) return rest;
    const std::string part = rest.substr(colon + 1);
    if (part.rfind("aggregate=", 0) != 0 && part.rfind("time_format=", 0) != 0) return rest;
    options->insert(options->begin(), part);
    rest.resize(colon);
  }
}

class JunitOutput final : public OutputSink {
 public:
  explicit JunitOutput(std::string path) : path_(std::move(path)) {}
  bool open(std::string*) override { return true; }
  bool finish(const FinalResults& results, std::string* error, std::string*) override {
    const std::string xml = engine::output::junit_xml(results.thresholds,
                                                      engine::output::collect_checks(results.store), results.elapsed_s);
    return engine::output::write_file_atomically(path_, xml, error);
  }

 private:
  std::string path_;
};

}  // namespace

std::optional<OutSpec> parse_out_spec(const std::string& text, std::string* error) {
  const auto eq = text.find('=');
  const std::string kind = text.substr(0, eq);
  OutSpec spec;
  if (kind == "json") {
    spec.format = OutSpec::Format::Json;
  } else if (kind == "csv") {
    spec.format = OutSpec::Format::Csv;
  } else {
    *error = "--out: unknown output \"" + kind + "\"; expected json=FILE or csv=FILE";
    return std::nullopt;
  }
  std::vector<std::string> options;
  spec.path = eq == std::string::npos ? "" : split_options(text.substr(eq + 1), &options);
  if (spec.path.empty()) {
    *error = "--out: " + kind + " needs a file, as in " + kind + "=results." + kind;
    return std::nullopt;
  }
  for (const auto& option : options) {
    if (!apply_option(option, &spec, error)) return std::nullopt;
  }
  return spec;
}

std::vector<std::unique_ptr<OutputSink>> make_output_sinks(
    const std::vector<OutSpec>& outs, const std::string& junit_path,
    const std::map<std::string, std::vector<std::string>>& thresholds) {
  std::vector<std::unique_ptr<OutputSink>> sinks;
  for (const auto& spec : outs) sinks.push_back(std::make_unique<PointsOutput>(spec, thresholds));
  if (!junit_path.empty()) sinks.push_back(std::make_unique<JunitOutput>(junit_path));
  return sinks;
}

}  // namespace luaload::app
