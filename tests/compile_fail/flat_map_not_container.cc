// Must not compile: flat_map() with a function that returns a single value.
#include "runtime/pipeline.h"

int main() {
  auto p = kappa::pipeline<int>().flat_map([](const int& x) { return x + 1; });
  (void)p;
}
