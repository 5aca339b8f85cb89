#include <bits/stdc++.h>
int main() {
  int t; std::cin >> t;
  while (t--) {
    int n; std::cin >> n;
    std::map<int, int> count;
    for (int i = 0; i < n; ++i) { int x; std::cin >> x; ++count[x]; }
    bool odd = false;
    for (auto& [value, c] : count) odd |= c % 2 == 1;
    std::cout << (odd ? "YES" : "NO") << "\n";
  }
}
