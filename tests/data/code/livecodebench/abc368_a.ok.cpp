#include <bits/stdc++.h>
int main() {
  int n, k; std::cin >> n >> k;
  std::vector<int> a(n);
  for (auto& x : a) std::cin >> x;
  std::rotate(a.begin(), a.begin() + (n - k), a.end());
  for (int i = 0; i < n; ++i) std::cout << a[i] << (i + 1 < n ? ' ' : '\n');
}
