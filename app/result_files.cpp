// SPDX-License-Identifier: MIT
#include "app/result_files.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "engine/output/history.hpp"
#include "engine/output/html_report.hpp"
#include "engine/output/summary_json.hpp"
#include "engine/output/summary_reader.hpp"

namespace luaload::app {

namespace output = engine::output;

namespace {

// A file that could not be written at the end would lose the run's results: its directory must exist and be
// writable before the run starts.
bool check_output_dir(const std::filesystem::path& dir, const char* flag, std::string* error) {
  const std::filesystem::path d = dir.empty() ? "." : dir;
  if (access(d.c_str(), W_OK) == 0) return true;
  *error = std::string(flag) + ": cannot write in \"" + d.string() + "\": " + std::strerror(errno);
  return false;
}

bool check_outputs(const ResultFiles& files, std::string* error) {
  if (!check_output_file(files.report_html, "--report", error)) return false;
  if (!check_output_file(files.save_baseline, "--save-baseline", error)) return false;
  if (files.history_dir.empty()) return true;
  std::error_code ec;
  std::filesystem::create_directories(files.history_dir, ec);
  if (ec) {
    *error = "--history: cannot create \"" + files.history_dir + "\": " + ec.message();
    return false;
  }
  return check_output_dir(files.history_dir, "--history", error);
}

}  // namespace

bool check_output_file(const std::string& path, const char* flag, std::string* error) {
  if (path.empty()) return true;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    *error = std::string(flag) + ": \"" + path + "\" is a directory";
    return false;
  }
  return check_output_dir(std::filesystem::path(path).parent_path(), flag, error);
}

bool prepare_result_files(const std::string& baseline_path, const std::string& max_regression, ResultFiles* files,
                          std::string* error) {
  if (!check_outputs(*files, error)) return false;
  auto tolerances = output::parse_tolerances(max_regression.empty() ? output::kDefaultTolerances : max_regression, error);
  if (!tolerances) return false;
  files->tolerances = std::move(*tolerances);
  if (baseline_path.empty()) return true;
  files->baseline_path = baseline_path;
  files->baseline = output::load_summary(baseline_path, error);
  if (!files->baseline) *error = "--baseline: " + *error;
  return files->baseline.has_value();
}

namespace {

void write_or_warn(const std::string& path, const std::string& content, const char* what) {
  std::string error;
  if (!output::write_file_atomically(path, content, &error))
    std::fprintf(stderr, "luaload: could not write the %s %s: %s\n", what, path.c_str(), error.c_str());
}

}  // namespace

bool write_result_files(const ResultFiles& files, const nlohmann::json& summary, int64_t start_unix_ms) {
  if (!files.report_html.empty()) write_or_warn(files.report_html, output::render_html_report(summary), "report");
  if (!files.save_baseline.empty()) write_or_warn(files.save_baseline, summary.dump(2) + "\n", "baseline");
  if (!files.history_dir.empty()) {
    std::string error;
    if (!output::write_history_entry(files.history_dir, start_unix_ms, summary.dump(2) + "\n", &error))
      std::fprintf(stderr, "luaload: could not write the history entry: %s\n", error.c_str());
  }
  if (!files.baseline) return false;
  const auto comparison = output::compare_runs(output::run_figures(*files.baseline), output::run_figures(summary),
                                               files.tolerances);
  std::printf("\n  comparison with the baseline %s\n\n%s", files.baseline_path.c_str(),
              output::format_comparison(comparison).c_str());
  std::fflush(stdout);
  return comparison.regressions() > 0;
}

}  // namespace luaload::app
