// SPDX-License-Identifier: MIT
#include "support/mini_xml.hpp"

#include <cctype>
#include <cstdlib>

namespace luaload::test {
namespace {

class Reader {
 public:
  explicit Reader(const std::string& s) : s_(s) {}

  std::optional<XmlElement> document(std::string* error) {
    skip_space();
    if (s_.compare(i_, 5, "<?xml") == 0) {
      size_t end = s_.find("?>", i_);
      if (end == std::string::npos) return fail("unterminated XML declaration", error);
      i_ = end + 2;
    }
    skip_space();
    XmlElement root;
    if (!element(root)) return fail(error_, error);
    skip_space();
    if (i_ != s_.size()) return fail("content after the root element", error);
    return root;
  }

 private:
  std::optional<XmlElement> fail(const std::string& what, std::string* error) {
    if (error) *error = what + " at byte " + std::to_string(i_);
    return std::nullopt;
  }
  bool bad(const std::string& what) {
    error_ = what;
    return false;
  }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool name(std::string& out) {
    size_t start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == '-' ||
                              s_[i_] == ':' || s_[i_] == '.'))
      ++i_;
    out = s_.substr(start, i_ - start);
    return !out.empty() || bad("expected a name");
  }
  bool reference(std::string& out) {
    size_t end = s_.find(';', i_);
    if (end == std::string::npos || end - i_ > 10) return bad("unterminated entity reference");
    std::string entity = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    static const std::map<std::string, char> kNamed = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'},
                                                       {"apos", '\''}};
    if (auto it = kNamed.find(entity); it != kNamed.end()) {
      out += it->second;
      return true;
    }
    if (entity.size() > 1 && entity[0] == '#' && std::isdigit(static_cast<unsigned char>(entity[1]))) {
      out += static_cast<char>(std::strtol(entity.c_str() + 1, nullptr, 10));
      return true;
    }
    return bad("unknown entity &" + entity + ";");
  }
  bool character_data(std::string& out, char stop) {
    while (i_ < s_.size() && s_[i_] != stop) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '<' && stop != '<') return bad("raw '<' in an attribute value");
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return bad("control character");
      if (c == '&') {
        if (!reference(out)) return false;
        continue;
      }
      out += s_[i_++];
    }
    return true;
  }
  bool attributes(XmlElement& e) {
    while (true) {
      skip_space();
      if (i_ >= s_.size()) return bad("unterminated start tag");
      if (s_[i_] == '>' || s_[i_] == '/') return true;
      std::string key, value;
      if (!name(key)) return false;
      if (i_ + 1 >= s_.size() || s_[i_] != '=' || (s_[i_ + 1] != '"' && s_[i_ + 1] != '\''))
        return bad("attribute " + key + " without a quoted value");
      const char quote = s_[i_ + 1];
      i_ += 2;
      if (!character_data(value, quote)) return false;
      if (i_ >= s_.size()) return bad("unterminated attribute value");
      ++i_;
      if (!e.attributes.emplace(key, value).second) return bad("duplicate attribute " + key);
    }
  }
  bool content(XmlElement& e) {
    while (true) {
      if (!character_data(e.text, '<')) return false;
      if (i_ >= s_.size()) return bad("unterminated element " + e.name);
      if (s_.compare(i_, 2, "</") == 0) {
        i_ += 2;
        std::string closing;
        if (!name(closing)) return false;
        if (closing != e.name) return bad("</" + closing + "> closes <" + e.name + ">");
        skip_space();
        if (i_ >= s_.size() || s_[i_] != '>') return bad("unterminated end tag");
        ++i_;
        return true;
      }
      e.children.emplace_back();
      if (!element(e.children.back())) return false;
    }
  }
  bool element(XmlElement& e) {
    if (i_ >= s_.size() || s_[i_] != '<') return bad("expected '<'");
    ++i_;
    if (!name(e.name) || !attributes(e)) return false;
    if (s_[i_] == '/') {
      if (i_ + 1 >= s_.size() || s_[i_ + 1] != '>') return bad("expected '/>'");
      i_ += 2;
      return true;
    }
    ++i_;
    return content(e);
  }

  const std::string& s_;
  size_t i_ = 0;
  std::string error_;
};

}  // namespace

std::vector<const XmlElement*> XmlElement::all(const std::string& child) const {
  std::vector<const XmlElement*> out;
  for (const auto& c : children) {
    if (c.name == child) out.push_back(&c);
  }
  return out;
}

std::string XmlElement::attribute(const std::string& key) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? "" : it->second;
}

std::optional<XmlElement> parse_xml(const std::string& document, std::string* error) {
  return Reader(document).document(error);
}

}  // namespace luaload::test
