#include <bits/stdc++.h>
int main() {
  int t; std::cin >> t;
  while (t--) {
    int n; std::cin >> n;
    std::map<int, int> count;
    int most = 0;
    for (int i = 0; i < n; ++i) { int x; std::cin >> x; most = std::max(most, ++count[x]); }
    std::cout << n - most << "\n";
  }
}
