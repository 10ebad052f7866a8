// SPDX-License-Identifier: MIT
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace luaload::test {

// A deliberately small XML reader for tests of XML outputs (JUnit): it checks well-formedness as far as those
// documents need (one root, properly nested and matching tags, quoted attributes without duplicates, only the five
// predefined entities and numeric references, no raw '<' or '&' in text, no control characters) and builds a tree.
// No DTDs, namespaces, CDATA or processing instructions other than the leading <?xml ...?> declaration.
struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attributes;  // values unescaped
  std::string text;                               // direct text content, unescaped
  std::vector<XmlElement> children;

  // Children named `child`, in document order.
  std::vector<const XmlElement*> all(const std::string& child) const;
  std::string attribute(const std::string& key) const;
};

// The root element, or nullopt with `error` saying what is malformed and at which byte.
std::optional<XmlElement> parse_xml(const std::string& document, std::string* error);

}  // namespace luaload::test
