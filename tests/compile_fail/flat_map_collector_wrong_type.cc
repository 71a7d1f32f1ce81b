// Must not compile: flat_map<U>() whose function does not take a collector.
#include "runtime/pipeline.h"

int main() {
  auto p = kappa::pipeline<int>().flat_map<long>([](const int& x) { return x; });
  (void)p;
}
