// Positive control: a correct pipeline using every builder form compiles
// with the same command the failing snippets use.
#include <string>
#include <vector>

#include "runtime/pipeline.h"

int main() {
  auto p = kappa::pipeline<int>()
               .filter([](const int& x) { return x > 0; })
               .filter([](const int&, const kappa::RecordMeta& meta) { return meta.offset >= 0; })
               .map([](const int& x) { return std::to_string(x); })
               .map([](std::string s, const kappa::RecordMeta& meta) { return s + std::string(meta.key); })
               .flat_map([](const std::string& s) { return std::vector<char>(s.begin(), s.end()); })
               .flat_map<int>([](const char& c, auto& out) { out(c - '0'); });
  static_assert(std::is_same_v<decltype(p)::output_type, int>);
  int sum = 0;
  auto sink = [&](kappa::Element<int>&& e) { sum += e.value; };
  p.push(kappa::Element<int>{12, {}}, sink);
  return sum == 3 ? 0 : 1;
}
