// A host-neutral configuration tree: what the YAML layer produces for a module's config and a
// route's config, and what the module loader exposes to modules through the C ABI (h2/abi.h,
// h2_host_api::config_*). It knows nothing of yaml-cpp, so the loader and the SDK bridge never
// depend on the YAML library, and tests build trees by hand.
//
// Shape: every node is one of null, bool, int (int64), string, list, map. Maps keep the
// declaration order of their keys (duplicate keys are the YAML layer's error to report).
// Every node carries the file:line:column it came from, so a module can report an error in its
// own config with a precise location (h2::Config::location() in the SDK).
//
// Who fills it: the host's YAML layer (host engineer), converting each yaml-cpp node:
//   scalar "true"/"false"           -> make_bool
//   scalar that parses as int64     -> make_int
//   any other scalar (incl. quoted) -> make_string
//   sequence                        -> make_list + push_back
//   map                             -> make_map + insert (in document order)
//   null / "~" / empty              -> default-constructed (kNull) with set_location
// Ownership: a ConfigValue owns its children (value semantics; copying copies the tree).
// Modules only ever see `const ConfigValue*` through opaque h2_config handles; a handle stays
// valid while the loader keeps the tree (ModuleRegistry copies the module and route configs it
// is given, so callers may drop theirs after the call).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace h2::serve {

// Where a node was written. `file` empty and line 0 when built in code (tests).
struct ConfigLocation {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
};

class ConfigValue {
 public:
  enum class Kind { kNull, kBool, kInt, kString, kList, kMap };

  ConfigValue() = default;  // kNull

  static ConfigValue make_bool(bool v, ConfigLocation loc = {});
  static ConfigValue make_int(std::int64_t v, ConfigLocation loc = {});
  static ConfigValue make_string(std::string v, ConfigLocation loc = {});
  static ConfigValue make_list(ConfigLocation loc = {});
  static ConfigValue make_map(ConfigLocation loc = {});

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  const ConfigLocation& location() const { return location_; }
  void set_location(ConfigLocation loc) { location_ = std::move(loc); }

  // Scalars. Each returns its value when kind() matches, else the fallback.
  bool as_bool(bool fallback = false) const;
  std::int64_t as_int(std::int64_t fallback = 0) const;
  // The string of a kString node; for other kinds an empty view. Valid while *this lives.
  std::string_view as_string() const;

  // Lists and maps. size() is the element count (0 for scalars).
  std::size_t size() const { return children_.size(); }
  // The i-th element of a list, or the i-th value of a map (declaration order); nullptr when
  // out of range. The pointer is valid while *this lives and is not modified.
  const ConfigValue* at(std::size_t i) const;
  // The i-th key of a map (declaration order); empty for lists and out of range.
  std::string_view key_at(std::size_t i) const;
  // The value under `key` in a map (first match), or nullptr when absent / not a map.
  const ConfigValue* find(std::string_view key) const;

  // Building. push_back on a list; insert on a map (keeps order, does not deduplicate).
  // Both return a reference to the stored child (valid until the next push_back/insert).
  ConfigValue& push_back(ConfigValue v);
  ConfigValue& insert(std::string key, ConfigValue v);

  // Human-readable "file:line:column" ("<config>" when no file).
  std::string where() const;

  friend bool operator==(const ConfigValue& a, const ConfigValue& b);

 private:
  ConfigValue(Kind kind, ConfigLocation loc);  // the make_* factories

  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  std::int64_t int_ = 0;
  std::string string_;
  std::vector<std::string> keys_;      // parallel to children_ for maps
  std::vector<ConfigValue> children_;  // list elements or map values
  ConfigLocation location_;
};

}  // namespace h2::serve
