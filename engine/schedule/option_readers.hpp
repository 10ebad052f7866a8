// SPDX-License-Identifier: MIT
// Readers shared by the option parsers (options.cpp, scenario_options.cpp). Each returns false with *error naming
// `key` and the bad value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/schedule/options.hpp"

namespace luaload::engine::schedule::detail {

bool fail(std::string* error, const std::string& message);
// A whole, non-negative number.
bool read_count(const nlohmann::json& value, const std::string& key, int64_t* out, std::string* error);
// k6 accepts "30s"-style strings and plain numbers of milliseconds for durations.
bool read_duration(const nlohmann::json& value, const std::string& key, int64_t* out, std::string* error);
// [{duration = "5m", target = 100}, ...]
bool read_stages(const nlohmann::json& value, const std::string& key, std::vector<Stage>* out, std::string* error);
// options.scenarios: every scenario validated, sorted by name.
bool read_scenarios(const nlohmann::json& value, std::vector<ScenarioConfig>* out, std::string* error);

}  // namespace luaload::engine::schedule::detail
