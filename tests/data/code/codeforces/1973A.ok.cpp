#include <bits/stdc++.h>
int main() {
  int t; std::cin >> t;
  while (t--) {
    int a, b, c; std::cin >> a >> b >> c;
    if ((a + b + c) % 2) { std::cout << -1 << "\n"; continue; }
    std::cout << std::min((a + b + c) / 2, a + b) << "\n";
  }
}
