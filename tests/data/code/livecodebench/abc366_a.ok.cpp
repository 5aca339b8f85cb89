#include <cstdio>
int main() {
  int n, t, a;
  if (scanf("%d %d %d", &n, &t, &a) != 3) return 1;
  puts(t > n / 2 || a > n / 2 ? "Yes" : "No");
}
