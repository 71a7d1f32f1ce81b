// Must not compile: map() over ints with a function that takes a string.
#include <string>

#include "runtime/pipeline.h"

int main() {
  auto p = kappa::pipeline<int>().map([](const std::string& s) { return s.size(); });
  (void)p;
}
