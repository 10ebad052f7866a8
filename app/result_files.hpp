// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/output/compare.hpp"

namespace luaload::app {

// What `luaload run` writes and checks at the end besides the summary export: --report, --save-baseline,
// --history and --baseline with --max-regression (docs/outputs.md).
struct ResultFiles {
  std::string report_html;    // --report FILE.html
  std::string save_baseline;  // --save-baseline FILE.json
  std::string history_dir;    // --history DIR
  std::string baseline_path;  // --baseline FILE.json, loaded before the run so a bad file fails fast
  std::optional<nlohmann::json> baseline;
  std::vector<engine::output::Tolerance> tolerances;

  bool wants_summary() const {
    return !report_html.empty() || !save_baseline.empty() || !history_dir.empty() || baseline.has_value();
  }
};

// Checks that a file promised at the end of the run (`flag`: --summary-export, --junit...) can be written there: not
// a directory, in a directory that exists and is writable. Empty `path`: nothing promised, true.
bool check_output_file(const std::string& path, const char* flag, std::string* error);

// Checks that the directories of --report and --save-baseline are writable and creates --history's, reads
// --baseline and parses --max-regression (kDefaultTolerances when empty) into `files`; false with `error` set
// naming the flag. Main thread, before the run.
bool prepare_result_files(const std::string& baseline_path, const std::string& max_regression, ResultFiles* files,
                          std::string* error);

// Writes every requested file from the run's summary export (each atomically; failures are reported on stderr
// and do not stop the others) and, with a baseline, prints the comparison table to stdout. Returns true when
// the comparison found a regression beyond the tolerances. Main thread, at the end of the run.
bool write_result_files(const ResultFiles& files, const nlohmann::json& summary, int64_t start_unix_ms);

}  // namespace luaload::app
