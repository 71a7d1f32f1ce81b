// Must not compile: map() with a function that returns nothing.
#include "runtime/pipeline.h"

int main() {
  auto p = kappa::pipeline<int>().map([](const int&) {});
  (void)p;
}
