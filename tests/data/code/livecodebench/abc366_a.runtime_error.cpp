#include <cstdio>
int main() {
  volatile int* p = nullptr;
  *p = 1;  // segmentation fault
  puts("Yes");
}
