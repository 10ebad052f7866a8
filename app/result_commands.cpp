// SPDX-License-Identifier: MIT
#include "app/result_commands.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "app/exit_codes.hpp"
#include "engine/output/compare.hpp"
#include "engine/output/history.hpp"
#include "engine/output/html_report.hpp"
#include "engine/output/summary_json.hpp"
#include "engine/output/summary_reader.hpp"

namespace luaload::app {
namespace {

namespace output = engine::output;

int input_error(const std::string& message) {
  std::fprintf(stderr, "luaload: %s\n", message.c_str());
  return kExitInvalidConfig;
}

struct ReportFlags {
  std::string summary;
  std::string out;
};

int run_report(const ReportFlags& flags) {
  std::string error;
  auto summary = output::load_summary(flags.summary, &error);
  if (!summary) return input_error(error);
  if (!output::write_file_atomically(flags.out, output::render_html_report(*summary), &error))
    return input_error("could not write " + flags.out + ": " + error);
  std::printf("report written to %s\n", flags.out.c_str());
  return kExitOk;
}

struct CompareFlags {
  std::string baseline;
  std::string current;
  std::string max_regression = output::kDefaultTolerances;
};

int run_compare(const CompareFlags& flags) {
  std::string error;
  auto tolerances = output::parse_tolerances(flags.max_regression, &error);
  if (!tolerances) return input_error(error);
  auto baseline = output::load_summary(flags.baseline, &error);
  if (!baseline) return input_error(error);
  auto current = output::load_summary(flags.current, &error);
  if (!current) return input_error(error);
  const auto comparison = output::compare_runs(output::run_figures(*baseline), output::run_figures(*current), *tolerances);
  std::printf("baseline %s\ncurrent  %s\n\n%s", flags.baseline.c_str(), flags.current.c_str(),
              output::format_comparison(comparison).c_str());
  return comparison.regressions() > 0 ? kExitRegression : kExitOk;
}

struct TrendFlags {
  std::string dir;
  std::string report;
  std::vector<std::string> metrics;
};

int run_trend(const TrendFlags& flags) {
  std::string error;
  std::vector<output::TrendMetric> metrics;
  for (const std::string& text : flags.metrics) {
    auto m = output::parse_trend_metric(text, &error);
    if (!m) return input_error(error);
    metrics.push_back(*m);
  }
  if (metrics.empty()) metrics = output::default_trend_metrics();
  std::vector<std::string> skipped;
  auto runs = output::load_history(flags.dir, &skipped, &error);
  if (!runs) return input_error(error);
  for (const std::string& why : skipped) std::fprintf(stderr, "luaload: skipped: %s\n", why.c_str());
  if (runs->empty()) return input_error("no summary exports in \"" + flags.dir + "\"");
  std::printf("%s", output::format_trend_table(*runs, metrics).c_str());
  if (!flags.report.empty() &&
      !output::write_file_atomically(flags.report, output::render_trend_html(*runs, metrics), &error))
    return input_error("could not write " + flags.report + ": " + error);
  return kExitOk;
}

}  // namespace

void add_result_commands(CLI::App& root, int& exit_code) {
  auto report_flags = std::make_shared<ReportFlags>();
  CLI::App* report = root.add_subcommand("report", "Render the HTML report of a saved --summary-export");
  report->add_option("summary", report_flags->summary, "The summary export (JSON)")->required();
  report->add_option("-o,--output", report_flags->out, "The HTML file to write")->required();
  report->callback([report_flags, &exit_code] { exit_code = run_report(*report_flags); });

  auto compare_flags = std::make_shared<CompareFlags>();
  CLI::App* compare = root.add_subcommand("compare", "Compare a run with a baseline; non-zero exit on a regression");
  compare->add_option("baseline", compare_flags->baseline, "The baseline summary export")->required();
  compare->add_option("current", compare_flags->current, "The summary export to check")->required();
  compare->add_option("--max-regression", compare_flags->max_regression,
                      std::string("Tolerances, default ") + output::kDefaultTolerances);
  compare->callback([compare_flags, &exit_code] { exit_code = run_compare(*compare_flags); });

  auto trend_flags = std::make_shared<TrendFlags>();
  CLI::App* trend = root.add_subcommand("trend", "Chart metrics across the runs of a --history directory");
  trend->add_option("dir", trend_flags->dir, "The history directory")->required();
  trend->add_option("--report", trend_flags->report, "Also write the charts to this HTML file");
  trend->add_option("--metric", trend_flags->metrics, "METRIC:STAT to chart, e.g. http_req_duration:p95 (repeatable)");
  trend->callback([trend_flags, &exit_code] { exit_code = run_trend(*trend_flags); });
}

}  // namespace luaload::app
