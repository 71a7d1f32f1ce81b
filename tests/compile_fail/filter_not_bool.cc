// Must not compile: filter() with a predicate that does not return bool.
#include <string>

#include "runtime/pipeline.h"

int main() {
  auto p = kappa::pipeline<int>().filter([](const int& x) { return std::to_string(x); });
  (void)p;
}
