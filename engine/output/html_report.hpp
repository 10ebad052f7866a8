// SPDX-License-Identifier: MIT
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace luaload::engine::output {

// The `--report FILE.html` / `luaload report` page, rendered from a summary export (docs/summary-json.md): test
// settings, thresholds and checks with pass/fail, time series charts (req/s, p50/p95/p99, VUs, error rate),
// requests by name, the latency distribution and errors by code (docs/outputs.md). One self-contained file:
// inline CSS and inline SVG, no script and no external URL. Every text from the export is HTML-escaped.
// Pure function, any thread; a summary without some parts renders those sections as "no data".
std::string render_html_report(const nlohmann::json& summary);

// A complete self-contained HTML page around `body_html` with the reports' stylesheet; `title` is escaped here.
std::string html_document(const std::string& title, const std::string& body_html);

}  // namespace luaload::engine::output
