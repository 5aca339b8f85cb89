#include <bits/stdc++.h>
int main() {
  int t; std::cin >> t;
  while (t--) {
    int n; std::string s; std::cin >> n >> s;
    int total = 0;
    for (char c : std::string("ABCD")) total += std::min<int>(n, std::count(s.begin(), s.end(), c));
    std::cout << total << "\n";
  }
}
