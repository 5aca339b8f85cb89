#include <bits/stdc++.h>
int main() {
  int t; std::cin >> t;
  while (t--) {
    int n; std::cin >> n;
    std::vector<long long> a(n);
    for (auto& x : a) std::cin >> x;
    int descents = 0;
    for (int i = 0; i + 1 < n; ++i) descents += a[i] > a[i + 1];
    bool ok = descents == 0 || (descents == 1 && a[n - 1] <= a[0]);
    std::cout << (ok ? "Yes" : "No") << "\n";
  }
}
