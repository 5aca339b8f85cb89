#include <iostream>
#include <vector>
int main() {
  std::vector<long long> hoard;
  for (;;) hoard.resize(hoard.size() * 2 + (1 << 20), 1);
}
