#include <bits/stdc++.h>
int main() {
  int t; std::cin >> t;
  while (t--) {
    int n; std::cin >> n;
    std::vector<long long> a(n);
    for (auto& x : a) std::cin >> x;
    long long best = LLONG_MAX;
    for (int i = 0; i + 1 < n; ++i) best = std::min(best, std::max(a[i], a[i + 1]));
    std::cout << best - 1 << "\n";
  }
}
