// SPDX-License-Identifier: MIT
#include "engine/process/line_splitter.hpp"

#include <algorithm>

namespace luaload::engine::process {

void LineSplitter::feed(std::string_view data, const std::function<void(Line&&)>& emit) {
  while (!data.empty()) {
    const size_t newline = data.find('\n');
    if (newline == std::string_view::npos) {
      append(data, emit);
      return;
    }
    append(data.substr(0, newline), emit);
    complete(emit);
    data.remove_prefix(newline + 1);
  }
}

void LineSplitter::finish(const std::function<void(Line&&)>& emit) {
  if (!partial_.empty() || skipping_) complete(emit);
}

// Adds a piece of the current line; the moment the line outgrows the limit it is reported and the rest skipped.
void LineSplitter::append(std::string_view piece, const std::function<void(Line&&)>& emit) {
  if (skipping_) return;
  if (partial_.size() + piece.size() <= max_line_bytes_) {
    partial_.append(piece);
    return;
  }
  partial_.append(piece.substr(0, kOverlongPrefixBytes - std::min(partial_.size(), kOverlongPrefixBytes)));
  partial_.resize(std::min(partial_.size(), kOverlongPrefixBytes));
  emit(Line{std::move(partial_), true});
  partial_.clear();
  partial_.shrink_to_fit();  // the held line may have been megabytes
  skipping_ = true;
}

void LineSplitter::complete(const std::function<void(Line&&)>& emit) {
  if (skipping_) {
    skipping_ = false;
    return;
  }
  if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
  if (partial_.empty()) return;
  emit(Line{std::move(partial_), false});
  partial_.clear();
}

void TailBuffer::append(std::string_view data) {
  total_ += data.size();
  if (data.size() >= capacity_) {
    buffer_.assign(data.substr(data.size() - capacity_));
    return;
  }
  buffer_.append(data);
  // Trimming only past twice the capacity keeps appends amortised O(1).
  if (buffer_.size() > 2 * capacity_) buffer_.erase(0, buffer_.size() - capacity_);
}

std::string TailBuffer::tail() const {
  return buffer_.size() <= capacity_ ? buffer_ : buffer_.substr(buffer_.size() - capacity_);
}

}  // namespace luaload::engine::process
