// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

// UTF-8 text helpers of the output writers: the one validator (tag values, check names and script paths can hold any
// bytes, but JSON, NDJSON and XML files must be valid UTF-8, so every writer asks this rule which bytes it may copy)
// and column widths for the terminal tables. Pure functions: any thread.
namespace luaload::engine::output {

// U+FFFD REPLACEMENT CHARACTER, what the writers put in place of each byte that is not valid UTF-8.
inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

// Length (1 to 4) of the well-formed UTF-8 sequence that starts at text[i], 0 when the bytes there are not one.
// Well-formed is RFC 3629's rule: no overlong forms (C0, C1, E0 80..9F, F0 80..8F), no UTF-16 surrogates
// (ED A0..BF), nothing above U+10FFFF (F4 90.., F5..FF), no stray continuation byte, no sequence cut short by the
// end of `text`. Requires i < text.size().
size_t utf8_sequence_length(std::string_view text, size_t i);

// `text` with each byte that does not belong to a well-formed sequence replaced by U+FFFD (one per byte, so a
// truncated three-byte sequence becomes two or three replacement characters). Valid input comes back unchanged.
std::string sanitize_utf8(std::string_view text);

// Width of UTF-8 `text` in terminal columns: one per code point (continuation bytes do not count), which is right
// for the symbols the text outputs print (µ, ✓, ✗); East Asian wide characters would count one.
size_t display_width(std::string_view text);

// `text` padded with spaces to `width` columns (display_width), after it or, with `right`, before it (right-aligned);
// unchanged when it is already that wide or wider.
std::string pad_to_width(std::string_view text, size_t width, bool right = false);

}  // namespace luaload::engine::output
