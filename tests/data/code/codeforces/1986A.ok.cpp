#include <bits/stdc++.h>
int main() {
  int t; std::cin >> t;
  while (t--) {
    int x[3]; std::cin >> x[0] >> x[1] >> x[2];
    std::cout << *std::max_element(x, x + 3) - *std::min_element(x, x + 3) << "\n";
  }
}
