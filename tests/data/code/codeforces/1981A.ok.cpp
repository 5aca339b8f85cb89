#include <iostream>
int main() {
  int t; std::cin >> t;
  while (t--) {
    long long l, r; std::cin >> l >> r;
    int bits = 0;
    while ((2LL << bits) <= r) ++bits;
    std::cout << bits << "\n";
  }
}
