#include "serve/config_value.h"

namespace h2::serve {

ConfigValue::ConfigValue(Kind kind, ConfigLocation loc) : kind_(kind), location_(std::move(loc)) {}

ConfigValue ConfigValue::make_bool(bool v, ConfigLocation loc) {
  ConfigValue c(Kind::kBool, std::move(loc));
  c.bool_ = v;
  return c;
}

ConfigValue ConfigValue::make_int(std::int64_t v, ConfigLocation loc) {
  ConfigValue c(Kind::kInt, std::move(loc));
  c.int_ = v;
  return c;
}

ConfigValue ConfigValue::make_string(std::string v, ConfigLocation loc) {
  ConfigValue c(Kind::kString, std::move(loc));
  c.string_ = std::move(v);
  return c;
}

ConfigValue ConfigValue::make_list(ConfigLocation loc) {
  return ConfigValue(Kind::kList, std::move(loc));
}

ConfigValue ConfigValue::make_map(ConfigLocation loc) {
  return ConfigValue(Kind::kMap, std::move(loc));
}

bool ConfigValue::as_bool(bool fallback) const {
  return kind_ == Kind::kBool ? bool_ : fallback;
}

std::int64_t ConfigValue::as_int(std::int64_t fallback) const {
  return kind_ == Kind::kInt ? int_ : fallback;
}

std::string_view ConfigValue::as_string() const {
  return kind_ == Kind::kString ? std::string_view(string_) : std::string_view();
}

const ConfigValue* ConfigValue::at(std::size_t i) const {
  return i < children_.size() ? &children_[i] : nullptr;
}

std::string_view ConfigValue::key_at(std::size_t i) const {
  return kind_ == Kind::kMap && i < keys_.size() ? std::string_view(keys_[i]) : std::string_view();
}

const ConfigValue* ConfigValue::find(std::string_view key) const {
  if (kind_ != Kind::kMap) return nullptr;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) return &children_[i];
  }
  return nullptr;
}

ConfigValue& ConfigValue::push_back(ConfigValue v) {
  children_.push_back(std::move(v));
  return children_.back();
}

ConfigValue& ConfigValue::insert(std::string key, ConfigValue v) {
  keys_.push_back(std::move(key));
  children_.push_back(std::move(v));
  return children_.back();
}

std::string ConfigValue::where() const {
  std::string out = location_.file.empty() ? std::string("<config>") : location_.file;
  out += ':' + std::to_string(location_.line) + ':' + std::to_string(location_.column);
  return out;
}

bool operator==(const ConfigValue& a, const ConfigValue& b) {
  return a.kind_ == b.kind_ && a.bool_ == b.bool_ && a.int_ == b.int_ && a.string_ == b.string_ &&
         a.keys_ == b.keys_ && a.children_ == b.children_;
}

}  // namespace h2::serve
