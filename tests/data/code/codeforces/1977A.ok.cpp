#include <cstdio>
int main() {
  int t; if (scanf("%d", &t) != 1) return 1;
  while (t--) {
    int n, m; if (scanf("%d %d", &n, &m) != 2) return 1;
    puts(n >= m && (n - m) % 2 == 0 ? "Yes" : "No");
  }
}
