// SPDX-License-Identifier: MIT
#include "engine/output/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

namespace luaload::engine::output {
namespace {

size_t length_at_start(const std::string& bytes) { return utf8_sequence_length(bytes, 0); }

TEST(Utf8, AcceptsEveryOneByteFormIncludingNul) {
  EXPECT_EQ(length_at_start(std::string(1, '\0')), 1u);
  EXPECT_EQ(length_at_start("A"), 1u);
  EXPECT_EQ(length_at_start("\x7F"), 1u);
}

TEST(Utf8, AcceptsTwoByteFormsFromU0080ToU07FF) {
  EXPECT_EQ(length_at_start("\xC2\x80"), 2u);  // U+0080
  EXPECT_EQ(length_at_start("\xC3\xA9"), 2u);  // U+00E9
  EXPECT_EQ(length_at_start("\xDF\xBF"), 2u);  // U+07FF
}

TEST(Utf8, AcceptsThreeByteFormsOutsideTheSurrogateRange) {
  EXPECT_EQ(length_at_start("\xE0\xA0\x80"), 3u);  // U+0800
  EXPECT_EQ(length_at_start("\xED\x9F\xBF"), 3u);  // U+D7FF, just below the surrogates
  EXPECT_EQ(length_at_start("\xEE\x80\x80"), 3u);  // U+E000, just above them
  EXPECT_EQ(length_at_start("\xEF\xBF\xBD"), 3u);  // U+FFFD
  EXPECT_EQ(length_at_start("\xEF\xBF\xBF"), 3u);  // U+FFFF
}

TEST(Utf8, AcceptsFourByteFormsFromU10000ToU10FFFF) {
  EXPECT_EQ(length_at_start("\xF0\x90\x80\x80"), 4u);  // U+10000
  EXPECT_EQ(length_at_start("\xF0\x9F\x98\x80"), 4u);  // U+1F600
  EXPECT_EQ(length_at_start("\xF4\x8F\xBF\xBF"), 4u);  // U+10FFFF
}

TEST(Utf8, MeasuresTheSequenceAtTheGivenOffset) {
  const std::string text = "a\xC3\xA9\xE2\x82\xAC";
  EXPECT_EQ(utf8_sequence_length(text, 0), 1u);
  EXPECT_EQ(utf8_sequence_length(text, 1), 2u);
  EXPECT_EQ(utf8_sequence_length(text, 3), 3u);
}

TEST(Utf8, RejectsOverlongForms) {
  EXPECT_EQ(length_at_start("\xC0\xAF"), 0u);              // '/' in two bytes
  EXPECT_EQ(length_at_start("\xC1\xBF"), 0u);              // U+007F in two bytes
  EXPECT_EQ(length_at_start("\xE0\x80\xAF"), 0u);          // '/' in three bytes
  EXPECT_EQ(length_at_start("\xE0\x9F\xBF"), 0u);          // U+07FF in three bytes
  EXPECT_EQ(length_at_start("\xF0\x80\x80\xAF"), 0u);      // '/' in four bytes
  EXPECT_EQ(length_at_start("\xF0\x8F\xBF\xBF"), 0u);      // U+FFFF in four bytes
}

TEST(Utf8, RejectsUtf16Surrogates) {
  EXPECT_EQ(length_at_start("\xED\xA0\x80"), 0u);  // U+D800
  EXPECT_EQ(length_at_start("\xED\xBF\xBF"), 0u);  // U+DFFF
}

TEST(Utf8, RejectsCodePointsAboveU10FFFF) {
  EXPECT_EQ(length_at_start("\xF4\x90\x80\x80"), 0u);  // U+110000
  EXPECT_EQ(length_at_start("\xF5\x80\x80\x80"), 0u);
  EXPECT_EQ(length_at_start("\xF7\xBF\xBF\xBF"), 0u);
  EXPECT_EQ(length_at_start("\xF8\x88\x80\x80\x80"), 0u);  // the old five-byte form
  EXPECT_EQ(length_at_start("\xFF"), 0u);
}

TEST(Utf8, RejectsSequencesCutShortByTheEndOfTheText) {
  EXPECT_EQ(length_at_start("\xC3"), 0u);
  EXPECT_EQ(length_at_start("\xE2\x82"), 0u);
  EXPECT_EQ(length_at_start("\xF0\x9F\x98"), 0u);
}

TEST(Utf8, RejectsSequencesInterruptedByANonContinuationByte) {
  EXPECT_EQ(length_at_start("\xC3" "A"), 0u);
  EXPECT_EQ(length_at_start("\xE2\x82" "A"), 0u);
  EXPECT_EQ(length_at_start("\xF0\x9F\x98\xC3\xA9"), 0u);
}

TEST(Utf8, RejectsStrayContinuationBytes) {
  EXPECT_EQ(length_at_start("\x80"), 0u);
  EXPECT_EQ(length_at_start("\xBF" "A"), 0u);
  EXPECT_EQ(utf8_sequence_length("\xC3\xA9\xA9", 2), 0u);
}

TEST(Utf8, SanitizeReturnsValidTextUnchanged) {
  const std::string text = std::string("plain \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 ") + '\0' + "end";
  EXPECT_EQ(sanitize_utf8(text), text);
}

TEST(Utf8, SanitizeReplacesEachInvalidByteWithOneReplacementCharacter) {
  EXPECT_EQ(sanitize_utf8("a\xC0\xAF" "b"), "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(sanitize_utf8("x\xE2\x82"), "x\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Utf8, SanitizeKeepsAValidSequenceThatFollowsAnInvalidByte) {
  EXPECT_EQ(sanitize_utf8("\xFF\xC3\xA9"), "\xEF\xBF\xBD\xC3\xA9");
}

TEST(Utf8, SanitizeOfEmptyTextIsEmpty) { EXPECT_EQ(sanitize_utf8(""), ""); }

TEST(Utf8, DisplayWidthCountsCodePointsNotBytes) {
  EXPECT_EQ(display_width("\u2713 3"), 3u);
  EXPECT_EQ(display_width("512.5\u00b5s"), 7u);
  EXPECT_EQ(display_width(""), 0u);
}

TEST(Utf8, PadToWidthAddsSpacesAfterTheTextByColumns) {
  EXPECT_EQ(pad_to_width("\u00b5s", 4), "\u00b5s  ");
}

TEST(Utf8, PadToWidthRightAlignsWhenAsked) {
  EXPECT_EQ(pad_to_width("12", 5, true), "   12");
}

TEST(Utf8, PadToWidthLeavesTextThatIsAlreadyAsWideUnchanged) {
  EXPECT_EQ(pad_to_width("metric", 6), "metric");
  EXPECT_EQ(pad_to_width("metric", 3, true), "metric");
}

}  // namespace
}  // namespace luaload::engine::output
