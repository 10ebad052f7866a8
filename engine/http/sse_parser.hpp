// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace luaload::engine::http {

// One server-sent event as the WHATWG HTML "event stream interpretation" dispatches it.
struct SseEvent {
  std::string event = "message";  // the event type; "message" when no `event:` field was given
  std::string data;                // `data:` lines joined with "\n"
  std::string id;                  // the last event ID buffer at dispatch time (persists across events)
  int64_t retry = -1;              // a valid `retry:` value (ms) given in this event's block, else -1
  bool empty = false;              // true only for blocks reported because of Options::report_empty
};

// Incremental parser for a text/event-stream body, fed arbitrary byte chunks (a line, even a CR LF pair or the
// UTF-8 BOM, may be split across chunks). Follows the WHATWG rules: LF, CR LF and CR end lines; a blank line
// dispatches; ":" lines are comments; a field without a colon has an empty value; one space after the colon is
// stripped; `retry` counts only if all ASCII digits; an `id` containing NUL is ignored; a block whose data buffer
// is empty is not dispatched (unless Options::report_empty); an unterminated block at end of stream is discarded.
//
// Bytes are passed through as they are (no UTF-8 validation). Not thread-aware; owned by its user.
class SseParser {
 public:
  struct Options {
    // Also emit blocks that had fields but no data (as events with empty = true), e.g. for a client that wants
    // to see an `id:`-only or `retry:`-only block.
    bool report_empty = false;
    // A line or an event's data larger than this fails the parser (bounded memory against a hostile server).
    size_t max_event_bytes = 16 * 1024 * 1024;
  };

  SseParser() = default;
  explicit SseParser(Options options) : options_(options) {}

  // Parses `chunk`, appending the events it completes to *out. Returns false (and keeps failing) once an event
  // exceeded max_event_bytes; error() says why.
  bool feed(std::string_view chunk, std::vector<SseEvent>* out);

  const std::string& last_event_id() const { return last_event_id_; }
  int64_t reconnection_time_ms() const { return reconnection_ms_; }  // -1 until a valid retry field
  uint64_t skipped_empty() const { return skipped_empty_; }  // blocks with fields but no data, not dispatched
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  void feed_bytes(std::string_view bytes, std::vector<SseEvent>* out);
  bool strip_bom(std::string_view* chunk, std::vector<SseEvent>* out);
  void on_line(std::vector<SseEvent>* out);
  void on_field(std::string_view field, std::string_view value);
  void dispatch(std::vector<SseEvent>* out);
  bool check_size(size_t extra);

  Options options_;
  std::string line_;
  bool after_cr_ = false;  // the last byte was CR: a LF right after it belongs to the same line end
  size_t bom_matched_ = 0;
  bool bom_done_ = false;
  std::string data_;
  std::string event_type_;
  int64_t block_retry_ = -1;
  bool block_has_field_ = false;
  std::string last_event_id_;
  int64_t reconnection_ms_ = -1;
  uint64_t skipped_empty_ = 0;
  std::string error_;
};

}  // namespace luaload::engine::http
