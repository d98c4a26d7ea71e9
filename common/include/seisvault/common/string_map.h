// StringMap: an unordered_map with std::string keys that is looked up by
// std::string_view (or a C string) without making a std::string: C++20's
// heterogeneous lookup, which needs a transparent hash and equality.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace seisvault {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

}  // namespace seisvault
