// SPDX-License-Identifier: MIT
#include "engine/http/sse_parser.hpp"

#include <algorithm>
#include <cstring>

namespace luaload::engine::http {
namespace {

constexpr char kBom[] = "\xEF\xBB\xBF";
constexpr size_t kBomSize = 3;
constexpr int64_t kMaxRetryMs = int64_t{1} << 52;  // larger values saturate; nobody waits 142 millennia

bool all_digits(std::string_view value) {
  return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int64_t parse_retry(std::string_view value) {
  int64_t ms = 0;
  for (char c : value) {
    ms = std::min(kMaxRetryMs, ms * 10 + (c - '0'));
  }
  return ms;
}

}  // namespace

bool SseParser::feed(std::string_view chunk, std::vector<SseEvent>* out) {
  if (failed()) return false;
  if (!bom_done_ && !strip_bom(&chunk, out)) return !failed();
  feed_bytes(chunk, out);
  return !failed();
}

// The stream may start with one UTF-8 BOM, possibly split across chunks. Returns false while it is undecided.
bool SseParser::strip_bom(std::string_view* chunk, std::vector<SseEvent>* out) {
  while (!chunk->empty() && bom_matched_ < kBomSize && (*chunk)[0] == kBom[bom_matched_]) {
    ++bom_matched_;
    chunk->remove_prefix(1);
  }
  if (bom_matched_ == kBomSize) {
    bom_done_ = true;
    return true;
  }
  if (chunk->empty()) return false;  // a BOM prefix so far; the next chunk decides
  // Not a BOM after all: the bytes held back are ordinary stream content.
  bom_done_ = true;
  feed_bytes(std::string_view(kBom, bom_matched_), out);
  return !failed();
}

void SseParser::feed_bytes(std::string_view bytes, std::vector<SseEvent>* out) {
  size_t pos = 0;
  while (pos < bytes.size() && !failed()) {
    if (after_cr_) {
      after_cr_ = false;
      if (bytes[pos] == '\n') {
        ++pos;
        continue;
      }
    }
    size_t end = bytes.find_first_of("\r\n", pos);
    size_t stop = end == std::string_view::npos ? bytes.size() : end;
    if (!check_size(stop - pos)) return;
    line_.append(bytes.data() + pos, stop - pos);
    if (end == std::string_view::npos) return;
    after_cr_ = bytes[end] == '\r';
    pos = end + 1;
    on_line(out);
    line_.clear();
  }
}

bool SseParser::check_size(size_t extra) {
  if (line_.size() + data_.size() + extra <= options_.max_event_bytes) return true;
  error_ = "server-sent event exceeds " + std::to_string(options_.max_event_bytes) + " bytes";
  return false;
}

void SseParser::on_line(std::vector<SseEvent>* out) {
  if (line_.empty()) {
    dispatch(out);
    return;
  }
  if (line_[0] == ':') return;  // a comment, often a keep-alive
  std::string_view line(line_);
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    on_field(line, {});
    return;
  }
  std::string_view value = line.substr(colon + 1);
  if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  on_field(line.substr(0, colon), value);
}

void SseParser::on_field(std::string_view field, std::string_view value) {
  if (field == "event") {
    event_type_.assign(value);
  } else if (field == "data") {
    data_.append(value).push_back('\n');
  } else if (field == "id") {
    if (value.find('\0') != std::string_view::npos) return;
    last_event_id_.assign(value);
  } else if (field == "retry") {
    if (!all_digits(value)) return;
    block_retry_ = reconnection_ms_ = parse_retry(value);
  } else {
    return;  // unknown fields are ignored and do not make a block reportable
  }
  block_has_field_ = true;
}

void SseParser::dispatch(std::vector<SseEvent>* out) {
  bool had_field = block_has_field_;
  int64_t retry = block_retry_;
  block_has_field_ = false;
  block_retry_ = -1;
  if (data_.empty()) {
    if (had_field) ++skipped_empty_;
    if (had_field && options_.report_empty) {
      out->push_back({event_type_.empty() ? "message" : event_type_, "", last_event_id_, retry, true});
    }
    event_type_.clear();
    return;
  }
  data_.pop_back();  // the LF appended after the last data line
  SseEvent event;
  event.event = event_type_.empty() ? "message" : std::move(event_type_);
  event.data = std::move(data_);
  event.id = last_event_id_;
  event.retry = retry;
  out->push_back(std::move(event));
  data_.clear();
  event_type_.clear();
}

}  // namespace luaload::engine::http
