// Must not compile: filter() with a predicate over another type.
#include <string>

#include "runtime/pipeline.h"

int main() {
  auto p = kappa::pipeline<int>().filter([](const std::string& s) { return s.empty(); });
  (void)p;
}
