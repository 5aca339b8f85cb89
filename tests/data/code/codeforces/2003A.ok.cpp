#include <bits/stdc++.h>
int main() {
  int t; std::cin >> t;
  while (t--) {
    int n; std::string s; std::cin >> n >> s;
    std::cout << (s.front() != s.back() ? "Yes" : "No") << "\n";
  }
}
