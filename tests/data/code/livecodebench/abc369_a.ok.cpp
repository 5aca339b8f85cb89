#include <bits/stdc++.h>
int main() {
  int a, b; std::cin >> a >> b;
  std::set<int> found{2 * a - b, 2 * b - a};
  if ((a + b) % 2 == 0) found.insert((a + b) / 2);
  std::cout << found.size() << "\n";
}
